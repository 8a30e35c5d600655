package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite"

	"github.com/zorgkit/zorgkit/consent"
	"github.com/zorgkit/zorgkit/consent/consenttest"
	"github.com/zorgkit/zorgkit/consent/sqlstore"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "consent")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// The application opens the database with its driver of choice.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "portal.db")+"?_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		log.Fatal(err)
	}
	if err := sqlstore.Migrate(ctx, db, sqlstore.SQLite); err != nil {
		log.Fatal(err)
	}
	store, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		log.Fatal(err)
	}
	r, err := consent.New(store, consent.Config{Key: consenttest.Key()}) // the key comes from configuration
	if err != nil {
		log.Fatal(err)
	}

	given := time.Now().Add(-time.Hour)
	if _, err := r.Give(ctx, consenttest.NewRecord("ps-7f3a9c", "agb-01234567", consent.PurposeTakeOverIndication, consent.Permit, given)); err != nil {
		log.Fatal(err)
	}
	out, err := r.DecideUnlogged(ctx, "ps-7f3a9c", "agb-01234567", consent.PurposeTakeOverIndication, time.Now())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out.Allowed, out.Reason)
	cp, err := r.Verify(ctx)
	fmt.Println(cp.Seq, cp.Chains, cp.Events, err)
	// Output:
	// true permitted
	// 1 1 1 <nil>
}
