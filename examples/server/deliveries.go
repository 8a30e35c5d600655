package main

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Delivery compliance, as the Gemeenteportaal states it: "U dient minimaal 2
// maal per jaar de CBS bestanden aan te leveren. Dit binnen één maand. Het is
// mogelijk om vaker de informatie aan te leveren."
//
// How this portal reads it. The CBS youth-care data set reports on a
// half-year (January–June, July–December). "Binnen één maand" is read as:
// within one calendar month after the end of the half-year the file reports
// on. So each calendar year has two delivery windows: January (1 to 31
// January, for the second half of the year before) and July (1 to 31 July,
// for the first half of the year), in local time; a provider complies for a
// year when a delivery arrived in each window. More deliveries, monthly ones
// too, are welcome and counted, but a delivery outside a window does not
// stand in for one inside it: it cannot hold the whole half-year.
//
// Only a complete, validated delivery counts (statuses accepted, processed
// and superseded): a test file, an empty, rejected or cut-off upload is no
// delivery. A delivery counts when it had arrived whole (received_at). A
// window is required only when the provider had a contract during the
// half-year it covers.

// deliveryWindow is one of the two windows of a year.
type deliveryWindow struct {
	Period   string    // the half-year it covers, such as "2e halfjaar 2025"
	Opens    time.Time // the first day of the window
	Closes   time.Time // the first day after it
	Required bool      // the provider had a contract during the half-year
	On       time.Time // the first delivery in the window, if any
	Late     time.Time // else the first one after it, before the next window
	State    string    // op tijd, te laat, ontbreekt, open, nog niet, niet vereist
}

// Due is the last day of the window, for display.
func (w deliveryWindow) Due() time.Time { return w.Closes.AddDate(0, 0, -1) }

// deliveryYear is a provider's compliance in one calendar year.
type deliveryYear struct {
	Provider string
	Year     int
	Count    int // deliveries that arrived in the year, in or outside a window
	Windows  []deliveryWindow
	Verdict  string // voldoet, voldoet niet, nog open, geen aanleverplicht
	Complies bool
}

// deliveryCompliance judges a provider's deliveries (the times they arrived)
// for year, at now. The contract bounds which windows are required; a zero
// contractEnd means there is no contract.
func deliveryCompliance(year int, deliveries []time.Time, contractStart, contractEnd, now time.Time) deliveryYear {
	y := deliveryYear{Year: year}
	for _, d := range deliveries {
		if d.In(time.Local).Year() == year {
			y.Count++
		}
	}
	for _, half := range []struct {
		period         string
		start, opens   time.Time
		nextWindowOpen time.Time
	}{
		{"2e halfjaar " + strconv.Itoa(year-1), date(year-1, time.July, 1), date(year, time.January, 1), date(year, time.July, 1)},
		{"1e halfjaar " + strconv.Itoa(year), date(year, time.January, 1), date(year, time.July, 1), date(year+1, time.January, 1)},
	} {
		w := deliveryWindow{Period: half.period, Opens: half.opens, Closes: half.opens.AddDate(0, 1, 0)}
		w.Required = !contractEnd.IsZero() && contractStart.Before(half.opens) && contractEnd.After(half.start)
		for _, d := range deliveries {
			switch {
			case !d.Before(w.Opens) && d.Before(w.Closes):
				if w.On.IsZero() || d.Before(w.On) {
					w.On = d
				}
			case !d.Before(w.Closes) && d.Before(half.nextWindowOpen):
				if w.Late.IsZero() || d.Before(w.Late) {
					w.Late = d
				}
			}
		}
		switch {
		case !w.On.IsZero():
			w.State = "op tijd"
		case !w.Required:
			w.State = "niet vereist"
		case now.Before(w.Opens):
			w.State = "nog niet"
		case now.Before(w.Closes):
			w.State = "open"
		case !w.Late.IsZero():
			w.State = "te laat"
		default:
			w.State = "ontbreekt"
		}
		y.Windows = append(y.Windows, w)
	}
	required, open, missed := 0, false, false
	for _, w := range y.Windows {
		if !w.Required {
			continue
		}
		required++
		switch w.State {
		case "open", "nog niet":
			open = true
		case "te laat", "ontbreekt":
			missed = true
		}
	}
	switch {
	case required == 0:
		y.Verdict = "geen aanleverplicht"
	case missed:
		y.Verdict = "voldoet niet"
	case open:
		y.Verdict = "nog open"
	default:
		y.Verdict, y.Complies = "voldoet", true
	}
	return y
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.Local) }

type deliveriesPage struct {
	Years []deliveryYear // per provider, the newest year first
}

// deliveriesPage shows the delivery compliance of each provider per calendar
// year, from the year its contract started: to the portal owner all
// providers, to a municipality the providers it contracts.
func (a *app) deliveriesPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, err := a.deliveryOverview(ctx, userFrom(ctx))
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "deliveries", p)
}

func (a *app) deliveryOverview(ctx context.Context, u *user) (deliveriesPage, error) {
	providers, err := a.orgs(ctx, kindProvider)
	if err != nil {
		return deliveriesPage{}, err
	}
	now := a.now()
	var p deliveriesPage
	for _, o := range providers {
		if u.Role == roleMunicipality && o.MunicipalityID != u.OrgID {
			continue
		}
		var times []time.Time
		rows, err := a.db.QueryContext(ctx, `SELECT received_at FROM uploads WHERE org_id = $1 AND status IN `+deliveryStatuses+` ORDER BY received_at`, o.ID)
		if err != nil {
			return deliveriesPage{}, err
		}
		for rows.Next() {
			var at int64
			if err := rows.Scan(&at); err != nil {
				rows.Close()
				return deliveriesPage{}, err
			}
			times = append(times, fromUsec(at))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return deliveriesPage{}, err
		}
		first := now.In(time.Local).Year()
		if !o.ContractStart.IsZero() {
			first = min(first, o.ContractStart.In(time.Local).Year())
		}
		if len(times) > 0 {
			first = min(first, times[0].In(time.Local).Year())
		}
		var years []deliveryYear
		for y := first; y <= now.In(time.Local).Year(); y++ {
			dy := deliveryCompliance(y, times, o.ContractStart, o.ContractEnd, now)
			dy.Provider = o.Name
			years = append(years, dy)
		}
		slices.Reverse(years)
		p.Years = append(p.Years, years...)
	}
	return p, nil
}
