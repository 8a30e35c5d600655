package main

import (
	"context"
	"maps"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCrashGrantingAccess kills the portal while it grants a provider
// access: the onboarding's last step, which gives the provider's
// administrator a temporary password and mails it. After the next start
// the administrator has exactly one mail, whose password is the stored
// one: never an organisation marked as granted whose details never went
// out.
func TestCrashGrantingAccess(t *testing.T) {
	for _, step := range []string{"access.granting", "access.granted"} {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			p := newTestPortal(t)
			ctx := context.Background()
			now := usec(p.clock.Now())
			_, err := p.a.db.Exec(`UPDATE organisations SET survey_received_at = $1, dpa_sent_at = $1, dpa_registered_at = $1 WHERE id = 'noord'`, now)
			require.NoError(t, err)
			u, err := p.a.userBy(ctx, "username", "noord")
			require.NoError(t, err)

			waitHelper(t, startHelperIn(t, p.a.cfg.DataDir, "grant", step, "0", "noord"), step)
			p.a.sender = &outbox{a: p.a}              // as in the helper: the mails stay in the outbox to be read
			require.NoError(t, p.a.grantPending(ctx)) // what the next start does

			var granted int64
			require.NoError(t, p.a.db.QueryRow(`SELECT access_granted_at FROM organisations WHERE id = 'noord'`).Scan(&granted))
			assert.NotZero(t, granted, "access is granted")
			rows, err := p.a.db.Query(`SELECT body FROM outbox WHERE user_id = $1 AND subject = 'Uw toegang tot het portaal'`, u.ID)
			require.NoError(t, err)
			var bodies []string
			for rows.Next() {
				var b string
				require.NoError(t, rows.Scan(&b))
				bodies = append(bodies, b)
			}
			require.NoError(t, rows.Err())
			rows.Close()
			require.Len(t, bodies, 1, "one mail with the account details")
			text, err := p.a.field.Decrypt("outbox.body:"+u.ID, bodies[0])
			require.NoError(t, err)
			m := regexp.MustCompile(`Tijdelijk wachtwoord: (\S+)`).FindSubmatch(text)
			require.NotNil(t, m)
			u, err = p.a.userBy(ctx, "username", "noord")
			require.NoError(t, err)
			assert.True(t, u.Temporary)
			assert.NoError(t, p.a.hasher.Verify(ctx, u.Hash, string(m[1])), "the mailed password is the stored one")
		})
	}
}

// TestCrashOnboardingSteps kills the portal in the middle of the steps of
// onboarding that store something and mail about it: an administrator
// creates a user (the mail holds the temporary password), a municipality
// registers a provider (its contact gets the survey), the provider answers
// the survey (and gets the processing agreement). Killed before the step
// committed, nothing of it is stored, so that it can be taken again;
// after, all of it is, its mail included.
func TestCrashOnboardingSteps(t *testing.T) {
	type state struct {
		stored bool // the step's change
		mails  int  // the step's mail in the outbox
	}
	tests := []struct {
		name, user, path, subject string
		form                      url.Values
		step                      string
		done                      bool
		state                     func(t *testing.T, p *testPortal) state
	}{
		{name: "user", user: "zonnehuis-beheer", path: "/admin/users", subject: "Uw account",
			form: url.Values{"username": {"piet"}, "name": {"Piet Post"}, "email": {"piet.post@zonnehuis.example"}, "channel": {"email"}, "role": {"user"}},
			state: func(t *testing.T, p *testPortal) state {
				var n int
				require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM users WHERE username = 'piet'`).Scan(&n))
				return state{stored: n == 1}
			}},
		{name: "provider", user: "gemeente", path: "/providers", subject: "Korte enquête voor het portaal",
			form: url.Values{"name": {"Kinderzorg Oost"}, "domain": {"kinderzorgoost.example"}, "contact-name": {"Karel Oost"},
				"contact-email": {"karel@kinderzorgoost.example"}, "start": {"2026-12-01"}, "end": {"2028-12-01"}},
			state: func(t *testing.T, p *testPortal) state {
				var orgs, users, surveys int
				require.NoError(t, p.a.db.QueryRow(`SELECT (SELECT COUNT(*) FROM organisations WHERE name = 'Kinderzorg Oost'),
					(SELECT COUNT(*) FROM users WHERE username = 'karel'),
					(SELECT COUNT(*) FROM surveys s JOIN organisations o ON o.id = s.org_id WHERE o.name = 'Kinderzorg Oost' AND o.survey_sent_at <> 0)`).Scan(&orgs, &users, &surveys))
				assert.True(t, orgs == users && users == surveys, "the organisation, its contact and the survey: all or none (%d, %d, %d)", orgs, users, surveys)
				return state{stored: orgs == 1}
			}},
		{name: "survey", user: "noord", path: "/survey", subject: "Verwerkersovereenkomst",
			form: url.Values{"clients": {"25 tot 100"}, "care": {"jeugd-ggz"}, "contact-name": {"Nina Noord"}, "contact-email": {"nina@thuiszorgnoord.example"}},
			state: func(t *testing.T, p *testPortal) state {
				var received int64
				require.NoError(t, p.a.db.QueryRow(`SELECT survey_received_at FROM organisations WHERE id = 'noord'`).Scan(&received))
				return state{stored: received != 0}
			}},
	}
	for _, tt := range tests {
		for _, done := range []bool{false, true} {
			step := map[string]string{"user": "user.creat", "provider": "provider.register", "survey": "survey.answer"}[tt.name] + map[bool]string{false: "ing", true: "ed"}[done]
			t.Run(step, func(t *testing.T) {
				t.Parallel()
				p := newTestPortal(t)
				ctx := context.Background()
				form := maps.Clone(tt.form)
				if tt.name == "survey" {
					o, err := p.a.org(ctx, "noord")
					require.NoError(t, err)
					require.NoError(t, p.a.sendSurvey(ctx, o))
					link, err := url.Parse(surveyLink(t, p, "noord"))
					require.NoError(t, err)
					form.Set("token", link.Query().Get("token"))
				}
				mails := func() int {
					var n int
					require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE subject = $1`, tt.subject).Scan(&n))
					return n
				}
				before := mails()
				waitHelper(t, startHelperIn(t, p.a.cfg.DataDir, "post", step, "0", tt.user+" "+tt.path+" "+form.Encode()), step)
				got := tt.state(t, p)
				got.mails = mails() - before
				if done {
					assert.Equal(t, state{stored: true, mails: 1}, got, "the step and its mail")
				} else {
					assert.Equal(t, state{}, got, "nothing of the step")
				}
			})
		}
	}
}

// TestCrashApprovingTestFile kills the portal while the owner approves a
// provider's test file: approved, the provider's users are told to upload
// again; killed before that commits, the file is still a test file to
// approve.
func TestCrashApprovingTestFile(t *testing.T) {
	for _, step := range []string{"approve.approving", "approve.approved"} {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			p := newTestPortal(t)
			var id string
			require.NoError(t, p.a.db.QueryRow(`SELECT id FROM uploads WHERE org_id = 'delinde' AND status = 'processed'`).Scan(&id))
			_, err := p.a.db.Exec(`UPDATE uploads SET status = 'test' WHERE id = $1`, id)
			require.NoError(t, err)
			var users int
			require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM users WHERE org_id = 'delinde'`).Scan(&users))
			require.Positive(t, users)

			waitHelper(t, startHelperIn(t, p.a.cfg.DataDir, "post", step, "0", "beheerder /owner/uploads/"+id+"/approve "), step)
			var status string
			var mails int
			require.NoError(t, p.a.db.QueryRow(`SELECT status FROM uploads WHERE id = $1`, id).Scan(&status))
			require.NoError(t, p.a.db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE subject = 'Testbestand goedgekeurd'`).Scan(&mails))
			if status == string(statusTest) {
				assert.Zero(t, mails, "not approved, nobody told")
				return
			}
			assert.Equal(t, string(statusTestApproved), status)
			assert.Equal(t, users, mails, "approved: every user of the provider is told")
		})
	}
}
