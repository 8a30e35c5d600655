package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/accesslog"
	"github.com/zorgkit/zorgkit/consent/store"
)

// instanceName names this process in the access log (NEN 7513: the
// application instance): the host and a random suffix, since several
// processes may run on one host.
func instanceName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return host + "/" + newID()[:8]
}

// consentStore is the consent registry's store, with a crash point after
// each update it committed (a consent given or withdrawn, a head written).
type consentStore struct{ store.Store }

func (s consentStore) Update(ctx context.Context, chain string, fn func(*store.Head, store.EventReader) (*store.Batch, error)) error {
	err := s.Store.Update(ctx, chain, fn)
	if err == nil {
		crashPoint("consent.updated")
	}
	return err
}

// upgradeConsentPending marks, in pending_rekeys (the table of one-time work
// at start), an upgrade of the consent heads under way.
const upgradeConsentPending = "consent_heads"

// upgradeConsent writes the heads of the consent chains of a database that
// was written before heads existed (consent/sqlstore migration 0003): once,
// when there are events but no head at all. A head that is missing or
// damaged later is not repaired here: Verify reports it, and the operator
// repairs it (Registry.RepairHeads) after looking into it.
//
// RepairHeads writes one chain at a time, so a crash leaves some chains with
// heads and others without: the mark, stored before the first head and
// removed after the last, tells the next start to go on with the upgrade
// rather than take the chains still without one for damage.
func (a *app) upgradeConsent(ctx context.Context) error {
	var events, heads, pending int
	if err := a.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM consent_events), (SELECT COUNT(*) FROM consent_heads),
		(SELECT COUNT(*) FROM pending_rekeys WHERE what = $1)`, upgradeConsentPending).Scan(&events, &heads, &pending); err != nil {
		return err
	}
	if events == 0 || (heads > 0 && pending == 0) {
		return nil
	}
	if _, err := a.db.ExecContext(ctx, `INSERT INTO pending_rekeys (what) VALUES ($1) ON CONFLICT (what) DO NOTHING`, upgradeConsentPending); err != nil {
		return err
	}
	repaired, err := a.consent.RepairHeads(ctx, consent.Change{
		By:     consent.Actor{User: "system", Organisation: "portal"},
		Reason: "upgrade: heads for the chains written before heads existed",
	})
	a.log.Info("consent: heads written for the chains of an older store", "chains", len(repaired))
	if err != nil {
		// Those chains decide nothing until an operator looks into them:
		// the audit page names their problems.
		a.log.Warn("consent: chains of an older store that do not verify", "err", err)
	}
	// Done, also for the chains that did not verify: those are the
	// operator's now. After a storage error the next start tries again.
	var terr *consent.TamperError
	if err != nil && !errors.As(err, &terr) {
		return nil
	}
	_, err = a.db.ExecContext(ctx, `DELETE FROM pending_rekeys WHERE what = $1`, upgradeConsentPending)
	return err
}

// loadConsentCheckpoints reads the consent registry's checkpoints at
// start-up, so that a chain rolled back behind the last checkpoint while
// the portal was down is refused from the first request on, without a full
// Verify (which reads every event). Checkpoints that do not verify are an
// alarm, logged by the registry and named by the next anchor, not a reason
// to refuse every client: the others still count.
func (a *app) loadConsentCheckpoints(ctx context.Context) error {
	start := time.Now()
	cp, err := a.consent.LoadCheckpoints(ctx)
	if err != nil && !errors.Is(err, consent.ErrCheckpoint) {
		return err
	}
	a.log.Info("consent: checkpoints read", "checkpoint", cp.Seq, "chains", cp.Chains, "took", time.Since(start).Round(time.Microsecond))
	return nil
}

// accessLogKey derives the key of the access log's MAC chains from the
// consent key, so that the two never share a key.
func accessLogKey(consentKey []byte) []byte {
	m := hmac.New(sha256.New, consentKey)
	m.Write([]byte("zorgkit example portal: access log key"))
	return m.Sum(nil)
}

// writeAccessLog seals the entries of one group commit after the last
// entry of this instance's chain, and inserts them. It reads the chain's
// head in the transaction, so that a failed transaction leaves nothing to
// undo, and a second process with the same instance name would fail on the
// unique (chain, seq) instead of forking the chain.
func (a *app) writeAccessLog(ctx context.Context, tx *sql.Tx, entries []consent.AccessEntry) error {
	var head accesslog.Head
	var seq int64
	var mac string
	err := tx.QueryRowContext(ctx, `SELECT seq, mac FROM access_log WHERE chain = $1 ORDER BY seq DESC LIMIT 1`, a.instance).Scan(&seq, &mac)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	default:
		b, err := hex.DecodeString(mac)
		if err != nil {
			return fmt.Errorf("access log: the MAC of entry %d is not hexadecimal", seq)
		}
		head = accesslog.Head{Seq: uint64(seq), MAC: b}
	}
	// On PostgreSQL in multi-row INSERTs (one round trip), on SQLite one
	// prepared INSERT per entry (no round trips to save, and a statement
	// text per batch size would be parsed anew each time).
	const insert = `INSERT INTO access_log (id, at, subject, user_id, on_behalf_of, org_id, purpose, action, allowed, reason, record,
		instance, address, role, object, error, chain, seq, payload, mac) VALUES `
	b := batchInsert{tx: tx, dialect: a.dialect, cols: 20, insert: insert}
	for _, e := range entries {
		sealed, err := a.accessSealer.Seal(a.instance, head, e)
		if err != nil {
			return err
		}
		head = accesslog.Head{Seq: sealed.Seq, MAC: sealed.MAC}
		row := []any{e.ID, usec(e.Time), string(e.Subject), e.User, e.OnBehalfOf, string(e.Organisation), string(e.Purpose),
			string(e.Action), e.Allowed, string(e.Reason), string(e.Record), e.Instance, e.Address, e.Role, e.Object, e.Error,
			a.instance, int64(sealed.Seq), string(sealed.Payload), hex.EncodeToString(sealed.MAC)}
		if a.dialect == sqlite {
			if _, err := tx.ExecContext(ctx, insert+`($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`, row...); err != nil {
				return err
			}
			continue
		}
		if err := b.add(ctx, row...); err != nil {
			return err
		}
	}
	return b.flush(ctx)
}

// verifyAccessLog checks every chain of the access log and returns the head
// of each, to anchor.
func (a *app) verifyAccessLog(ctx context.Context) (map[string]accesslog.Head, error) {
	heads := map[string]accesslog.Head{}
	var problems []consent.Problem
	var chains []string
	rows, err := a.db.QueryContext(ctx, `SELECT DISTINCT chain FROM access_log WHERE chain IS NOT NULL ORDER BY chain`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return nil, err
		}
		chains = append(chains, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, c := range chains {
		v := a.accessSealer.NewVerifier(c)
		for after := int64(0); ; {
			rows, err := a.db.QueryContext(ctx, `SELECT seq, payload, mac FROM access_log WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT 1000`, c, after)
			if err != nil {
				return nil, err
			}
			n := 0
			for rows.Next() {
				var seq int64
				var payload, mac string
				if err := rows.Scan(&seq, &payload, &mac); err != nil {
					rows.Close()
					return nil, err
				}
				m, _ := hex.DecodeString(mac)
				v.Next(uint64(seq), []byte(payload), m)
				after, n = seq, n+1
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
			if n == 0 {
				break
			}
		}
		heads[c] = v.Head()
		var terr *consent.TamperError
		if errors.As(v.Err(), &terr) {
			problems = append(problems, terr.Problems...)
		}
	}
	if len(problems) > 0 {
		return heads, &consent.TamperError{Problems: problems}
	}
	return heads, nil
}

// anchorJob is the id prefix of the daily job that anchors the consent
// registry and the access log.
const anchorJob = jobAnchor + ":"

// anchorConsent verifies the consent registry, which stores a checkpoint,
// and the access log; seals the checkpoint's digest into the access log;
// and mails the digest and the head of every access-log chain to the portal
// owner's staff. The mail is the anchor outside the database: with it,
// Registry.VerifyAnchor later shows that no consent event the checkpoint
// covers was removed or changed, and the heads show the same of the access
// log, even if the whole database was rolled back.
//
// job is the id of the job that anchors: a run of the same job after a
// crash queues no mail a run before it queued, so the staff do not get the
// same anchor twice (but an alarm that the first run did not raise).
func (a *app) anchorConsent(ctx context.Context, job string) (string, error) {
	var body strings.Builder
	subject := "Dagelijks controlepunt toestemmingsregistratie en toegangslog"
	cp, cerr := a.consent.Verify(ctx)
	if cerr == nil {
		fmt.Fprintf(&body, "Controlepunt %d van de toestemmingsregistratie, %s: %d ketens, %d gebeurtenissen.\nDigest: %s\n",
			cp.Seq, cp.Time.Local().Format("2-1-2006 15:04:05"), cp.Chains, cp.Events, cp.Digest)
		// In the access log too, whose heads below then cover it.
		if err := a.logAccess(ctx, consent.AccessEntry{Instance: a.instance, User: "system", Role: "system", Organisation: "portal",
			Object: "consent/checkpoint/" + cp.Digest, Action: consent.ActionExecute, Allowed: true}); err != nil {
			return "", err
		}
		crashPoint("anchor.checkpointed")
	}
	heads, lerr := a.verifyAccessLog(ctx)
	if lerr == nil {
		body.WriteString("\nToegangslog, per instantie het laatste volgnummer en de MAC:\n")
		for _, chain := range slices.Sorted(maps.Keys(heads)) {
			fmt.Fprintf(&body, "%s %d %x\n", chain, heads[chain].Seq, heads[chain].MAC)
		}
	}
	detail := "anchored"
	if err := errors.Join(cerr, lerr); err != nil {
		var terr *consent.TamperError
		if !errors.As(err, &terr) && !errors.Is(err, consent.ErrCheckpoint) {
			return "", err // storage: try again at the next tick
		}
		subject = "ALARM: toestemmingsregistratie of toegangslog gewijzigd buiten het portaal om"
		fmt.Fprintf(&body, "\nDe controle vond een wijziging buiten het portaal om: %v\nOnderzoek dit, en herstel uit een back-up.\n", err)
		detail = "tampered: " + err.Error()
	}
	owners, err := a.orgs(ctx, kindOwner)
	if err != nil {
		return "", err
	}
	for _, o := range owners {
		users, err := a.usersOf(ctx, o.ID)
		if err != nil {
			return "", err
		}
		for _, u := range users {
			if u.Role == roleAuditor || u.Role == roleAdmin {
				if err := a.sender.SendOnce(ctx, job+"\x00"+subject, u, subject, body.String()); err != nil {
					return "", err
				}
			}
		}
	}
	return detail, nil
}
