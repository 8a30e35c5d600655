package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

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
	{ID: "noord", Name: "Thuiszorg Noord", Kind: kindProvider, Domains: []string{"thuiszorgnoord.example"}, MunicipalityID: "almere"}, // no contract yet
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
	{"noord", "noord", "Nina Noord", "nina@thuiszorgnoord.example", roleUser},
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
		if o.Kind != kindOwner && o.ID != "noord" {
			o.ContractStart, o.ContractEnd, o.DPARegistered = now.AddDate(-1, 0, 0), now.AddDate(2, 0, 0), now.AddDate(-1, 0, 0)
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

// demoDataset generates a CBS-like youth-care data set with outcome
// measurements, the same for the same seed. Most BSNs are drawn from all
// valid numbers; a few rows carry the CBS placeholders or a typing error, so
// that the quality report has something to show.
func demoDataset(seed string, rows int) io.Reader {
	var s uint64
	for _, c := range seed {
		s = s*31 + uint64(c)
	}
	rng := rand.New(rand.NewPCG(s, 7))
	numbers := bsntest.Numbers(s, rows)
	municipalities := []string{"0034", "0034", "0034", "0995", "0050"}
	products := []string{"45A11", "45A12", "43A01", "41A02", "54001", "54002"}
	var b strings.Builder
	b.WriteString(uploadHeader + "\n")
	for i := range rows {
		field := numbers[i].Digits()
		switch {
		case i%97 == 13:
			field = "999999999"
		case i%151 == 20:
			field = bsnTypo(numbers[i])
		}
		birth := time.Date(2004+rng.IntN(20), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		goal := []string{"ja", "ja", "nee", ""}[rng.IntN(4)]
		sat := ""
		if rng.IntN(3) > 0 {
			sat = fmt.Sprint(4 + rng.IntN(7))
		}
		sex := []string{"1", "2"}[rng.IntN(2)]
		// A few values outside the data set's domains, so that the
		// quality report has something to show: a satisfaction of 42 is
		// no valid measurement, sex "Q" is accepted with a warning.
		switch {
		case i%113 == 7:
			sat = "42"
		case i%127 == 9:
			sex = "Q"
		}
		fmt.Fprintf(&b, "%s;%s;%s;13%02d %c%c;%s;B%06d;%08d;%s;%s;%s;%s;%s;%s;%s\n",
			field, birth.Format("2006-01-02"), sex, 10+rng.IntN(90), 'A'+rune(rng.IntN(26)), 'A'+rune(rng.IntN(26)),
			municipalities[rng.IntN(len(municipalities))], rng.IntN(1_000_000), 87000000+i%1000, []string{"01", "02", "03", "06"}[i%4],
			products[rng.IntN(len(products))], "2026-01-01", "2026-06-30", []string{"1", "1", "2", "3"}[i%4], goal, sat)
	}
	return strings.NewReader(b.String())
}

// bsnTypo returns n with its last digit changed: a typing error that the
// eleven-proof catches.
func bsnTypo(n bsn.Number) string {
	s := []byte(n.Digits())
	s[8] = '0' + (s[8]-'0'+1)%10
	return string(s)
}
