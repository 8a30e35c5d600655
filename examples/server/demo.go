package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/zorgkit/zorgkit/bsn"
	"github.com/zorgkit/zorgkit/bsn/bsntest"
	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/password/email"
)

// The demo's organisations. The domains use the reserved .example top-level
// domain: no mail can leave the demo.
var demoOrgs = []organisation{
	{ID: "beheer", Name: "Portaalbeheer (TTP)", Kind: kindOwner, Domains: []string{"beheer.example"}},
	{ID: "almere", Name: "Gemeente Almere", Kind: kindMunicipality, Domains: []string{"almere.example"}, CBSCode: "0034"},
	{ID: "zonnehuis", Name: "Zorggroep Zonnehuis", Kind: kindProvider, Domains: []string{"zonnehuis.example"}, MunicipalityID: "almere"},
	{ID: "delinde", Name: "Jeugdhulp De Linde", Kind: kindProvider, Domains: []string{"delinde.example"}, MunicipalityID: "almere"},
	{ID: "noord", Name: "Thuiszorg Noord", Kind: kindProvider, Domains: []string{"thuiszorgnoord.example"}, MunicipalityID: "almere"}, // the survey is not in yet
}

type demoUser struct {
	org, username, name, email string
	role                       role
}

var demoUsers = []demoUser{
	{"beheer", "beheerder", "Bea Beheer", "bea.beheer@beheer.example", roleAuditor},
	{"almere", "gemeente", "Gijs Gemeente", "g.gemeente@almere.example", roleMunicipality},
	{"zonnehuis", "zonnehuis-beheer", "Olga Organisatiebeheer", "o.beheer@zonnehuis.example", roleAdmin},
	{"zonnehuis", "jdevries", "Jan de Vries", "jan.devries@zonnehuis.example", roleUser},
	{"delinde", "linde", "Lotte Linde", "lotte@delinde.example", roleUser},
	{"noord", "noord", "Nina Noord", "nina@thuiszorgnoord.example", roleAdmin},
}

// seedDemo fills an empty database with demo organisations, users, clients,
// consents and a processed upload per provider, and returns the users'
// passwords by username. It does nothing if the database already has
// organisations.
func (a *app) seedDemo(ctx context.Context) (map[string]string, error) {
	var n int
	if err := a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM organisations`).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, nil
	}
	now := a.now()
	for _, o := range demoOrgs {
		o := o
		yearAgo := now.AddDate(-1, 0, 0)
		switch {
		case o.Kind == kindMunicipality:
			o.ContractStart, o.ContractEnd, o.DPARegistered = yearAgo, now.AddDate(2, 0, 0), yearAgo
		case o.ID == "noord":
			// Registered by the municipality last week; the survey link
			// is sent below, once the contact has an account.
			o.ContractStart, o.ContractEnd = now.AddDate(0, 0, -7), now.AddDate(2, 0, 0)
			o.RegisteredBy, o.Registered = o.MunicipalityID, now.AddDate(0, 0, -7)
		case o.Kind == kindProvider:
			o.ContractStart, o.ContractEnd, o.DPARegistered = yearAgo, now.AddDate(2, 0, 0), yearAgo.AddDate(0, 0, 14)
			o.RegisteredBy, o.Registered = o.MunicipalityID, yearAgo
			o.SurveySent, o.SurveyReceived, o.DPASent = yearAgo, yearAgo.AddDate(0, 0, 3), yearAgo.AddDate(0, 0, 3)
			o.AccessGranted = o.DPARegistered
		}
		if err := a.insertOrg(ctx, &o); err != nil {
			return nil, err
		}
	}
	users := map[string]*user{}
	passwords := map[string]string{}
	for _, du := range demoUsers {
		pw, err := a.policy.TemporaryPassword(nil) // a random password that meets the policy
		if err != nil {
			return nil, err
		}
		hash, err := a.hasher.Hash(ctx, pw)
		if err != nil {
			return nil, err
		}
		key, err := email.Mailbox(du.email)
		if err != nil {
			return nil, err
		}
		org, err := a.org(ctx, du.org)
		if err != nil {
			return nil, err
		}
		u := &user{ID: newID(), OrgID: du.org, Org: org, Username: du.username, Name: du.name, Email: du.email, Channel: "email",
			Role: du.role, Hash: hash, PasswordSet: now, Created: now}
		if err := a.insertUser(ctx, u, key); err != nil {
			return nil, err
		}
		users[du.username] = u
		passwords[du.username] = pw
	}
	noord, err := a.org(ctx, "noord")
	if err != nil {
		return nil, err
	}
	if err := a.sendSurvey(ctx, noord); err != nil {
		return nil, err
	}
	if err := a.seedClients(ctx, users["jdevries"]); err != nil {
		return nil, err
	}
	for _, uploader := range []string{"jdevries", "linde"} {
		if err := a.seedUploads(ctx, users[uploader]); err != nil {
			return nil, err
		}
	}
	if _, err := a.processUploads(ctx); err != nil {
		return nil, err
	}
	if err := a.refreshReports(ctx); err != nil {
		return nil, err
	}
	return passwords, nil
}

// printDemoUsers shows the demo users and their passwords, once.
func (a *app) printDemoUsers(passwords map[string]string) {
	if passwords == nil {
		return // not a new database: the passwords were shown on its first start
	}
	fmt.Fprintf(a.out, "\n=== DEMO USERS (shown once; the database keeps only argon2id hashes) ===\n")
	for _, du := range demoUsers {
		fmt.Fprintf(a.out, "  %-18s %-22s %-14s password: %s\n", du.username, du.org, du.role, passwords[du.username])
	}
	where := "on this console"
	if a.cfg.SMTP.Addr != "" {
		where = "in the mailbox of " + a.cfg.SMTP.Addr
	}
	fmt.Fprintf(a.out, "Log in at %s/login; the verification code appears %s.\n\n", a.baseURL(), where)
}

// seedClients registers the fictitious test persons of the BRP test
// environment as clients, and consents of Zonnehuis for some of them.
func (a *app) seedClients(ctx context.Context, by *user) error {
	names := []string{"Anna de Boer", "Bram Jansen", "Chantal Visser", "Daan Smit", "Eva Mulder", "Finn de Groot", "Gerda Bos", "Hamza El Idrissi", "Iris Vos", "Joost Peters", "Kim Hendriks"}
	streets := []string{"Stationsstraat", "Grote Markt", "Lindelaan", "Havenweg", "Kerkstraat"}
	now := a.now()
	for i, n := range bsntest.TestPersons() {
		subject, _, err := a.findClient(ctx, n)
		if err != nil {
			return err
		}
		name := names[i%len(names)]
		addr := fmt.Sprintf("%s %d, 13%02d AB Almere", streets[i%len(streets)], 3+i*7, 10+i)
		if _, err := a.db.ExecContext(ctx, `INSERT INTO clients (pseudonym, name_enc, address_enc, birth_year) VALUES ($1, $2, $3, $4)`,
			subject, a.field.Encrypt("clients.name", []byte(name)), a.field.Encrypt("clients.address", []byte(addr)), 1935+i*6); err != nil {
			return err
		}
		if _, err := a.db.ExecContext(ctx, `INSERT INTO indications (id, client, care_profile, decided_at, valid_until) VALUES ($1, $2, $3, $4, $5)`,
			"IND-"+newID()[:8], subject, fmt.Sprintf("VV-%02d", 4+i%6), usec(now.AddDate(0, -3-i, 0)), usec(now.AddDate(3, 0, 0))); err != nil {
			return err
		}
		// Zonnehuis has the first client's consent to view NAW data and to
		// consult the indication; the second refused NAW.
		var purposes []consent.Purpose
		var decision consent.Decision = consent.Permit
		switch i {
		case 0:
			purposes = []consent.Purpose{consent.PurposeViewNAW, consent.PurposeConsultIndication}
		case 1:
			purposes, decision = []consent.Purpose{consent.PurposeViewNAW}, consent.Deny
		case 2, 3, 4:
			purposes = []consent.Purpose{consent.PurposeViewNAW}
		}
		for _, p := range purposes {
			if _, err := a.consent.Give(ctx, consent.Record{
				Subject: consent.Subject(subject), Organisation: consent.Organisation(by.OrgID), Purpose: p, Decision: decision,
				GivenAt: now.AddDate(0, 0, -30+i), PolicyVersion: "portero-toestemming-2017",
				Evidence:   consent.Evidence{Kind: consent.EvidencePaper, Reference: fmt.Sprintf("ZH-TOE-%04d", 100+i)},
				RecordedBy: by.actor(),
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// seedUploads gives a provider an approved test upload and a delivery of a
// generated data set.
func (a *app) seedUploads(ctx context.Context, u *user) error {
	seed := u.OrgID
	test, err := a.receive(ctx, u, demoDataset(seed, 40))
	if err != nil {
		return err
	}
	if _, err := a.db.ExecContext(ctx, `UPDATE uploads SET status = 'test-approved' WHERE id = $1`, test.ID); err != nil {
		return err
	}
	_, err = a.receive(ctx, u, demoDataset(seed, 600))
	return err
}

// demoDataset generates a CBS youth-care data set in the columns of
// uploadLayout, the same for the same seed: decisions that began between
// July 2024 and September 2026, about a quarter and those that would end
// after October 2026 still running (no end date, no reason of ending,
// nothing measured yet), the others ended with a reason
// and, mostly, the outcome measurements. The BSNs are those of the test
// persons of package bsntest, each on many rows. A few rows are wrong on purpose, so that the quality report has
// something to show, each kind at fixed rows (counted from 0; the file
// line is the row + 2):
//
//   - row 13, 110, …: the CBS placeholder 999999999 (accepted, passes through)
//   - row 20, 171, …: a typing error in the BSN (the row is rejected)
//   - row 60, 227, …: postcode 1300 SA, which is not issued (rejected)
//   - row 7, 120, …: a satisfaction of 42 (no valid measurement)
//   - row 9, 136, …: sex "Q" (accepted with a warning)
//   - row 30, 211, …: an end date without its reason (a warning)
//
// Product 47A05 is rare (rows 5, 88, …), so that the reports have small
// cells to withhold.
func demoDataset(seed string, rows int) io.Reader {
	var s uint64
	for _, c := range seed {
		s = s*31 + uint64(c)
	}
	rng := rand.New(rand.NewPCG(s, 7))
	// The BRP's fictitious test persons, in turn: the file is downloaded
	// and read by people, and bsntest.Numbers draws from every valid BSN,
	// some of which are real people's.
	persons := bsntest.TestPersons()
	municipalities := []string{"0034", "0034", "0034", "0995", "0050"}
	products := []string{"45A11", "45A12", "43A01", "41A02", "54001", "54002"}
	referrers := []string{"01", "01", "02", "03", "04", "06"}
	first := time.Date(2024, time.July, 1, 0, 0, 0, 0, time.UTC)
	var b strings.Builder
	b.WriteString(uploadHeader + "\n")
	for i := range rows {
		field := persons[i%len(persons)].Digits()
		switch {
		case i%97 == 13:
			field = "999999999"
		case i%151 == 20:
			field = bsnTypo(persons[i%len(persons)])
		}
		birth := time.Date(2004+rng.IntN(20), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		sex := []string{"1", "2"}[rng.IntN(2)]
		postcode := demoPostcode(rng)
		// Care that began between July 2024 and September 2026 and took
		// two to ten months, so that the Zorgmonitor has periods to
		// compare; care that had not ended by November 2026 is running.
		begin := first.AddDate(0, rng.IntN(27), rng.IntN(28))
		var end, reason, goal, sat string
		if ended := begin.AddDate(0, 2+rng.IntN(9), 0); rng.IntN(4) > 0 && ended.Before(time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC)) {
			end = ended.Format("2006-01-02")
			reason = []string{"1", "1", "1", "2", "3", "4", "5"}[rng.IntN(7)]
			goal = []string{"ja", "ja", "nee", ""}[rng.IntN(4)]
			if rng.IntN(3) > 0 {
				sat = fmt.Sprint(4 + rng.IntN(7))
			}
		}
		switch {
		case i%113 == 7:
			sat = "42"
		case i%127 == 9:
			sex = "Q"
		case i%167 == 60:
			postcode = "1300 SA"
		case i%181 == 30:
			if end == "" {
				end = begin.AddDate(0, 3, 0).Format("2006-01-02")
			}
			reason = ""
		}
		product := products[rng.IntN(len(products))]
		if i%83 == 5 {
			product = "47A05" // a rare product: small cells, which the reports withhold
		}
		fmt.Fprintf(&b, "%s;%s;%s;%s;%s;B%06d;%08d;%s;%s;%s;%s;%s;%s;%s\n",
			field, birth.Format("2006-01-02"), sex, postcode,
			municipalities[rng.IntN(len(municipalities))], rng.IntN(1_000_000), 87000000+i%1000, referrers[rng.IntN(len(referrers))],
			product, begin.Format("2006-01-02"), end, reason, goal, sat)
	}
	return strings.NewReader(b.String())
}

// demoPostcode draws an Almere postcode (13xx) with letters that are
// issued: never SA, SD or SS.
func demoPostcode(rng *rand.Rand) string {
	for {
		l1, l2 := 'A'+rune(rng.IntN(26)), 'A'+rune(rng.IntN(26))
		if l1 == 'S' && (l2 == 'A' || l2 == 'D' || l2 == 'S') {
			continue
		}
		return fmt.Sprintf("13%02d %c%c", 10+rng.IntN(90), l1, l2)
	}
}

// bsnTypo returns n with its last digit changed: a typing error that the
// eleven-proof catches.
func bsnTypo(n bsn.Number) string {
	s := []byte(n.Digits())
	s[8] = '0' + (s[8]-'0'+1)%10
	return string(s)
}

// demoFile sends a newly generated CBS data set (demoDataset, 500 rows) as
// a provider's Excel on Dutch Windows saves it, "CSV (gescheiden door
// lijstscheidingsteken)": Windows-1252, ';' and CRLF line ends, so that a
// newcomer can try the upload flow with a file as providers really send
// them. It exists in demo mode only; its BSNs are the test persons'.
func (a *app) demoFile(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	data, err := io.ReadAll(demoDataset(u.OrgID+a.now().Format(time.RFC3339Nano), 500))
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	data, err = charmap.Windows1252.NewEncoder().Bytes(bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n")))
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=windows-1252")
	w.Header().Set("Content-Disposition", `attachment; filename="cbs-jeugdhulp-demo.csv"`)
	_, _ = w.Write(data)
}
