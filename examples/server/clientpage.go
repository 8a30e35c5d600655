package main

import (
	"bytes"
	"strconv"
	"strings"
)

// The client page is the page of the portal's hot path: every lookup and
// every consent action answers with it. Executing it through html/template
// cost a lookup more CPU than anything else (43% of it under wrk, issue 13):
// the template engine calls each escaper and template function by
// reflection, about 150 times per page. writeClientsPage writes the same
// page directly.
//
// templates/layout.html with templates/clients.html stay the page's
// definition: writeClientsPage writes byte for byte what they produce, and
// TestClientsPageMatchesTemplate holds it to that for every state of the
// page (a change to either template without the same change here fails
// it). Values are escaped as html/template escapes them in these contexts
// (escapeHTML); a page with anything writeClientsPage was not written for
// (a menu path or field name that would need URL escaping, a user without
// organisation) goes through the template instead.

// writeClientsPage writes the client page for d (whose Page is a
// clientsPage) to b and reports true, or writes nothing and reports false
// when the page needs the template.
func writeClientsPage(b *bytes.Buffer, d pageData) bool {
	p, ok := d.Page.(clientsPage)
	if !ok || !fastPageable(p, d.View) {
		return false
	}
	v := d.View
	b.WriteString("<!doctype html>\n<html lang=\"nl\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
	// The "title" template.
	if p.Error != "" || p.Client != nil && (len(p.Client.Errors) > 0 || p.Client.Refused) {
		b.WriteString("Fout: ")
	}
	if p.Client != nil {
		b.WriteString("Cliënt met BSN ")
		escapeHTML(b, p.Client.Masked)
	} else {
		b.WriteString("Cliënt opzoeken")
	}
	b.WriteString(" – zorgkit portaal</title>\n<link rel=\"stylesheet\" href=\"/static/style.css\">\n")
	if v.Session != nil {
		b.WriteString("<script src=\"/static/session.js\" defer></script>")
	}
	b.WriteString("\n</head>\n<body>\n<a class=\"skip-link\" href=\"#main\">Direct naar de inhoud</a>\n<header class=\"site-header\">\n  <div class=\"bar\">\n    <a class=\"brand\" href=\"/\">zorgkit portaal</a>\n    ")
	if v.User != nil {
		b.WriteString("<form method=\"post\" action=\"/logout\" class=\"logout\"><span id=\"whoami\">")
		escapeHTML(b, v.User.Name)
		b.WriteString(" · ")
		escapeHTML(b, v.User.Org.Name)
		b.WriteString("</span> <button class=\"secondary\" id=\"logout\">Uitloggen</button></form>")
	}
	b.WriteString("\n  </div>\n  ")
	if len(v.Menu) > 0 {
		b.WriteString("<nav aria-label=\"Hoofdmenu\"><ul>")
		for _, m := range v.Menu {
			b.WriteString("<li><a href=\"")
			b.WriteString(m.Path) // fastPageable: nothing to escape
			b.WriteString("\"")
			if m.Current {
				b.WriteString(" aria-current=\"page\"")
			}
			b.WriteString(">")
			escapeHTML(b, m.Label)
			b.WriteString("</a></li>")
		}
		b.WriteString("</ul></nav>")
	}
	b.WriteString("\n</header>\n<main id=\"main\" tabindex=\"-1\">\n")
	for _, n := range v.Notices {
		b.WriteString("<p class=\"notice\" id=\"notice\">")
		escapeHTML(b, n)
		b.WriteString(" <a href=\"/password\">Wachtwoord wijzigen</a></p>")
	}
	b.WriteString("\n")
	writeClientsContent(b, p)
	b.WriteString("\n</main>\n")
	if s := v.Session; s != nil {
		b.WriteString("\n<dialog id=\"session-warning\" class=\"session-warning\" aria-labelledby=\"session-warning-title\" data-expires-in=\"")
		b.WriteString(strconv.Itoa(s.ExpiresIn))
		b.WriteString("\" data-warn-before=\"")
		b.WriteString(strconv.Itoa(s.WarnBefore))
		b.WriteString("\">\n  <div data-state=\"warning\">\n    <h2 id=\"session-warning-title\">Wilt u ingelogd blijven?</h2>\n    <p>U heeft een tijd niets gedaan in het portaal. Om <strong data-session-end>…</strong> wordt u automatisch uitgelogd. Wat u dan nog niet heeft opgeslagen, gaat verloren.</p>\n    ")
		if s.Extendable {
			b.WriteString("<form method=\"post\" action=\"/session/extend\" data-session-extend>\n      <input type=\"hidden\" name=\"next\" value=\"")
			escapeHTML(b, s.Next)
			b.WriteString("\">\n      <button id=\"session-extend\">Ingelogd blijven</button>\n    </form>\n    ")
		} else {
			b.WriteString("<p>U kunt niet langer ingelogd blijven: een sessie duurt hoogstens ")
			escapeHTML(b, s.Limit)
			b.WriteString(". Rond uw werk af en log daarna opnieuw in.</p>")
		}
		b.WriteString("\n  </div>\n  <div data-state=\"ended\" hidden>\n    <h2>U bent uitgelogd</h2>\n    <p>U bent automatisch uitgelogd, omdat u een tijd niets heeft gedaan in het portaal.</p>\n    <p><a href=\"/login\" id=\"session-login\">Opnieuw inloggen</a></p>\n  </div>\n</dialog>\n")
	}
	b.WriteString("\n</body>\n</html>\n")
	return true
}

// fastPageable reports whether writeClientsPage was written for everything
// p and v hold: URL parts it writes as they are must need no escaping.
func fastPageable(p clientsPage, v view) bool {
	if v.User != nil && v.User.Org == nil {
		return false
	}
	for _, m := range v.Menu {
		if !plainPath(m.Path) {
			return false
		}
	}
	if p.Client != nil {
		for _, e := range p.Client.Errors {
			if e.Field != "" && !plainName(e.Field) {
				return false
			}
		}
	}
	return true
}

// plainPath reports whether s is a path that html/template's URL filter,
// normaliser and attribute escaper leave as it is: letters, digits and
// - _ . ~ /, not starting with "//".
func plainPath(s string) bool {
	return s != "" && !strings.HasPrefix(s, "//") && plainChars(s, true)
}

// plainName reports whether s is non-empty and made only of characters that
// html/template's URL escaper leaves alone (after the # of a link): letters,
// digits and - _ . ~.
func plainName(s string) bool {
	return s != "" && plainChars(s, false)
}

func plainChars(s string, slash bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || slash && c == '/') {
			return false
		}
	}
	return true
}

// writeClientsContent writes the template "content" of clients.html.
func writeClientsContent(b *bytes.Buffer, p clientsPage) {
	errs := oneFieldError("bsn", p.Error)
	b.WriteString("\n\n<h1>Cliënt opzoeken</h1>\n")
	writeErrorBox(b, "", errs)
	b.WriteString("\n<p>U zoekt een cliënt op met het volledige BSN. Zoeken op naam of op een deel van het nummer kan niet.</p>\n<form method=\"post\" action=\"/clients/lookup\" autocomplete=\"off\" novalidate class=\"inline-form\">\n  <div class=\"field\">\n    <label for=\"bsn\">BSN van de cliënt ")
	b.WriteString(requiredMark)
	b.WriteString("</label>\n    <p class=\"hint\" id=\"bsn-hint\">9 cijfers; spaties en punten mogen.</p>\n    ")
	writeFieldError(b, errs, "bsn")
	b.WriteString("\n    <input name=\"bsn\" id=\"bsn\" class=\"medium\" inputmode=\"numeric\" required aria-describedby=\"bsn-hint")
	if len(errs) > 0 {
		b.WriteString(" bsn-error")
	}
	b.WriteString("\"")
	if len(errs) > 0 {
		b.WriteString(" aria-invalid=\"true\"")
	}
	b.WriteString(">\n  </div>\n  <button id=\"lookup\">Zoeken</button>\n</form>\n")
	if c := p.Client; c != nil {
		writeClient(b, c)
	}
	b.WriteString("\n")
}

// requiredMark is the template "required".
const requiredMark = "<span class=\"required\">(verplicht)</span>"

// writeClient writes the part of clients.html inside {{with .Client}}.
func writeClient(b *bytes.Buffer, c *clientView) {
	b.WriteString("\n\n<section aria-labelledby=\"client\">\n<h2 id=\"client\">Cliënt met BSN ")
	escapeHTML(b, c.Masked)
	b.WriteString("</h2>\n")
	writeErrorBox(b, "De toestemming is niet vastgelegd", c.Errors)
	b.WriteString("\n")
	if c.Message != "" {
		b.WriteString("<p class=\"")
		if c.Refused {
			b.WriteString("error")
		} else {
			b.WriteString("notice")
		}
		b.WriteString("\" id=\"message\" tabindex=\"-1\"")
		if len(c.Errors) == 0 {
			b.WriteString(" autofocus")
		}
		b.WriteString(">")
		escapeHTML(b, c.Message)
		b.WriteString("</p>")
	}
	b.WriteString("\n")
	if d := c.Shown; d != nil {
		b.WriteString("\n<section id=\"data\" aria-labelledby=\"data-title\">\n")
		if d.Name != "" {
			b.WriteString("<h3 id=\"data-title\">NAW-gegevens</h3><p>")
			escapeHTML(b, d.Name)
			b.WriteString("<br>")
			escapeHTML(b, d.Address)
			b.WriteString("</p>\n")
		} else {
			b.WriteString("<h3 id=\"data-title\">Indicaties</h3>\n<div class=\"table-scroll\" role=\"region\" aria-labelledby=\"indications-caption\" tabindex=\"0\">\n<table>\n<caption id=\"indications-caption\">Indicaties van de cliënt, de nieuwste eerst</caption>\n<thead><tr><th scope=\"col\">Kenmerk</th><th scope=\"col\">Zorgprofiel</th><th scope=\"col\">Besluit</th><th scope=\"col\">Geldig tot</th></tr></thead>\n<tbody>")
			for _, in := range d.Indications {
				b.WriteString("<tr><th scope=\"row\">")
				escapeHTML(b, in.ID)
				b.WriteString("</th><td>")
				escapeHTML(b, in.CareProfile)
				b.WriteString("</td><td>")
				escapeHTML(b, dutchDate(in.DecidedAt))
				b.WriteString("</td><td>")
				escapeHTML(b, dutchDate(in.ValidUntil))
				b.WriteString("</td></tr>")
			}
			b.WriteString("</tbody>\n</table>\n</div>")
		}
		b.WriteString("\n</section>\n")
	}
	b.WriteString("\n<p>Voor elk gebruik van de gegevens van de cliënt is een aparte, ondertekende toestemming nodig. Bewaar het formulier in uw eigen archief; het CIZ kan het in een steekproef opvragen.</p>\n")
	for i := range c.Purposes {
		writePurpose(b, c, &c.Purposes[i])
	}
	b.WriteString("\n</section>\n")
}

// writePurpose writes one purpose of the client page: the body of
// {{range .Purposes}}.
func writePurpose(b *bytes.Buffer, c *clientView, pv *purposeView) {
	p := string(pv.Purpose)
	var errs []fieldError
	if c.Form == pv.Purpose {
		errs = c.Errors
	}
	// The purpose, in an attribute or text: escaped once.
	var pe bytes.Buffer
	escapeHTML(&pe, p)
	ep := pe.String()
	var he bytes.Buffer
	escapeHTML(&he, c.Handle)
	handle := he.String()
	b.WriteString("\n\n\n<section class=\"purpose\" aria-labelledby=\"purpose-")
	b.WriteString(ep)
	b.WriteString("\">\n<h3 id=\"purpose-")
	b.WriteString(ep)
	b.WriteString("\">")
	escapeHTML(b, pv.Title)
	b.WriteString("</h3>\n")
	hiddenFields := func() {
		b.WriteString("    <input type=\"hidden\" name=\"client\" value=\"")
		b.WriteString(handle)
		b.WriteString("\">\n    <input type=\"hidden\" name=\"purpose\" value=\"")
		b.WriteString(ep)
		b.WriteString("\">\n")
	}
	lowerTitle := func() {
		b.WriteString("<span class=\"visually-hidden\">: ")
		escapeHTML(b, strings.ToLower(pv.Title))
		b.WriteString("</span>")
	}
	if pv.Allowed {
		b.WriteString("\n  ")
		if pv.Medical {
			b.WriteString("<p class=\"ok\" id=\"authorised-")
			b.WriteString(ep)
			b.WriteString("\">De machtiging is vastgelegd")
			if pr := pv.Practitioner; pr != nil {
				b.WriteString(" voor ")
				escapeHTML(b, pr.Name)
				b.WriteString(" (")
				escapeHTML(b, pr.Function)
				b.WriteString(")")
			}
			b.WriteString(".</p>\n  ")
		} else {
			b.WriteString("<p class=\"ok\">De cliënt heeft toestemming gegeven.</p>\n  <form method=\"post\" action=\"/clients/view\">\n")
			hiddenFields()
			b.WriteString("    <button id=\"view-")
			b.WriteString(ep)
			b.WriteString("\">Openen")
			lowerTitle()
			b.WriteString("</button>\n  </form>")
		}
		b.WriteString("\n  <form method=\"post\" action=\"/clients/withdraw/confirm\">\n")
		hiddenFields()
		b.WriteString("    <button class=\"secondary\" id=\"withdraw-")
		b.WriteString(ep)
		b.WriteString("\">Toestemming intrekken")
		lowerTitle()
		b.WriteString("</button>\n  </form>\n")
	} else {
		b.WriteString("\n  <p>")
		escapeHTML(b, pv.Reason)
		b.WriteString("</p>\n  <form method=\"post\" action=\"/clients/consent\" novalidate>\n")
		hiddenFields()
		b.WriteString("    <fieldset")
		if len(errs) > 0 && fieldErrorText(errs, "decision-"+p) != "" {
			b.WriteString(" aria-describedby=\"decision-")
			b.WriteString(ep)
			b.WriteString("-error\"")
		}
		b.WriteString(">\n      <legend>")
		escapeHTML(b, purposeQuestions[pv.Purpose])
		b.WriteString(" ")
		b.WriteString(requiredMark)
		b.WriteString("</legend>\n      ")
		if len(errs) > 0 { // the names are built only when there are errors to look up
			writeFieldError(b, errs, "decision-"+p)
		}
		b.WriteString("\n      <div class=\"choice\"><input type=\"radio\" name=\"decision\" value=\"permit\" id=\"decision-")
		b.WriteString(ep)
		b.WriteString("\" checked> <label for=\"decision-")
		b.WriteString(ep)
		b.WriteString("\">Ja, de cliënt geeft toestemming</label></div>\n      <div class=\"choice\"><input type=\"radio\" name=\"decision\" value=\"deny\" id=\"decision-")
		b.WriteString(ep)
		b.WriteString("-deny\"> <label for=\"decision-")
		b.WriteString(ep)
		b.WriteString("-deny\">Nee, de cliënt weigert</label></div>\n    </fieldset>\n")
		// field writes one labelled field whose control is
		// before + id + middle (+ the error attributes) + ">".
		field := func(name, label, before, middle string) {
			b.WriteString("    <div class=\"field\">\n      <label for=\"")
			b.WriteString(name)
			b.WriteString("-")
			b.WriteString(ep)
			b.WriteString("\">")
			b.WriteString(label)
			b.WriteString(" ")
			b.WriteString(requiredMark)
			b.WriteString("</label>\n      ")
			if len(errs) > 0 {
				writeFieldError(b, errs, name+"-"+p)
			}
			b.WriteString("\n      ")
			b.WriteString(before)
			b.WriteString(name)
			b.WriteString("-")
			b.WriteString(ep)
			b.WriteString(middle)
			if len(errs) > 0 && fieldErrorText(errs, name+"-"+p) != "" {
				b.WriteString(" aria-invalid=\"true\" aria-describedby=\"")
				b.WriteString(name)
				b.WriteString("-")
				b.WriteString(ep)
				b.WriteString("-error\"")
			}
		}
		var today bytes.Buffer
		escapeHTML(&today, c.Today)
		field("given", "Datum van ondertekening", "<input type=\"date\" name=\"given\" id=\"", "\" class=\"medium\" value=\""+today.String()+"\" required")
		b.WriteString(">\n    </div>\n")
		field("reference", "Kenmerk van het formulier in uw archief", "<input name=\"reference\" id=\"", "\" required")
		b.WriteString(">\n    </div>\n    ")
		if pv.Medical {
			b.WriteString("\n")
			field("practitioner", "Naam van de behandelaar", "<input name=\"practitioner\" id=\"", "\" autocomplete=\"off\" required")
			b.WriteString(">\n    </div>\n")
			field("function", "Functie van de behandelaar, zoals huisarts", "<input name=\"function\" id=\"", "\" autocomplete=\"off\" required")
			b.WriteString(">\n    </div>\n    ")
		}
		b.WriteString("\n")
		field("evidence", "Hoe is het formulier ondertekend?", "<select name=\"evidence\" id=\"", "\" required")
		b.WriteString("><option value=\"paper\">Op papier</option><option value=\"electronic-signature\">Met een elektronische handtekening</option></select>\n    </div>\n    <button id=\"consent-")
		b.WriteString(ep)
		b.WriteString("\">Vastleggen")
		lowerTitle()
		b.WriteString("</button>\n  </form>\n")
	}
	b.WriteString("\n</section>\n")
}

// writeErrorBox writes the template "errorbox" (and "errorsummary", whose
// title is empty).
func writeErrorBox(b *bytes.Buffer, title string, errs []fieldError) {
	if len(errs) == 0 {
		return
	}
	if title == "" {
		title = "Er is een probleem"
	}
	b.WriteString("<div class=\"error-summary\" id=\"error-summary\" tabindex=\"-1\" autofocus>\n<h2>")
	escapeHTML(b, title)
	b.WriteString("</h2>\n<ul>")
	for _, e := range errs {
		b.WriteString("<li>")
		if e.Field != "" {
			b.WriteString("<a href=\"#")
			b.WriteString(e.Field) // fastPageable: nothing to escape
			b.WriteString("\">")
			escapeHTML(b, e.Message)
			b.WriteString("</a>")
		} else {
			escapeHTML(b, e.Message)
		}
		b.WriteString("</li>")
	}
	b.WriteString("</ul>\n</div>")
}

// writeFieldError writes the template "fielderror".
func writeFieldError(b *bytes.Buffer, errs []fieldError, field string) {
	msg := fieldErrorText(errs, field)
	if msg == "" {
		return
	}
	b.WriteString("<p class=\"field-error\" id=\"")
	escapeHTML(b, field)
	b.WriteString("-error\"><span class=\"visually-hidden\">Fout: </span>")
	escapeHTML(b, msg)
	b.WriteString("</p>")
}

// escapeHTML writes s escaped as html/template escapes a string in text, in
// a quoted attribute value and in RCDATA (its htmlEscaper, attrEscaper and
// rcdataEscaper agree on plain strings): NUL becomes U+FFFD, and " & ' + <
// > become character references. Everything else, invalid UTF-8 included,
// stays as it is (TestEscapeHTMLMatchesTemplate).
func escapeHTML(b *bytes.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var repl string
		switch s[i] {
		case 0:
			repl = "\uFFFD"
		case '"':
			repl = "&#34;"
		case '&':
			repl = "&amp;"
		case '\'':
			repl = "&#39;"
		case '+':
			repl = "&#43;"
		case '<':
			repl = "&lt;"
		case '>':
			repl = "&gt;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(repl)
		last = i + 1
	}
	b.WriteString(s[last:])
}
