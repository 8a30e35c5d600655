package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

//go:embed migrations
var migrations embed.FS

// Migrations returns the migrations of a dialect: files named
// NNNN_description.sql, applied in the order of their number. An application
// with its own migration tool can apply these instead of calling [Migrate];
// it must then keep its own record of what was applied.
func Migrations(dialect Dialect) (fs.FS, error) {
	if err := dialect.check(); err != nil {
		return nil, err
	}
	return fs.Sub(migrations, path.Join("migrations", string(dialect)))
}

// migrationLock is the key of the PostgreSQL advisory lock that serialises
// concurrent calls of Migrate ("consent" in ASCII).
const migrationLock = 0x636f6e73656e74

// Migrate brings the schema of db up to date: it applies each migration that
// consent_schema_migrations does not list, each in its own transaction
// together with its row in that table. It is idempotent, and safe to call
// from several processes at once.
func Migrate(ctx context.Context, db *sql.DB, dialect Dialect) error {
	files, err := Migrations(dialect)
	if err != nil {
		return err
	}
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return fmt.Errorf("consent/sqlstore: %w", err)
	}
	err = inTx(ctx, db, dialect, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS consent_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)")
		return err
	})
	if err != nil {
		return fmt.Errorf("consent/sqlstore: creating consent_schema_migrations: %w", err)
	}
	for _, name := range names { // fs.Glob sorts them
		version, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("consent/sqlstore: migration %s has no number", name)
		}
		script, err := fs.ReadFile(files, name)
		if err != nil {
			return fmt.Errorf("consent/sqlstore: %w", err)
		}
		err = inTx(ctx, db, dialect, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, dialect.rebind(
				"INSERT INTO consent_schema_migrations (version, name) VALUES (?, ?) ON CONFLICT DO NOTHING"),
				version, name)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return err // applied before
			}
			_, err = tx.ExecContext(ctx, string(script))
			return err
		})
		if err != nil {
			return fmt.Errorf("consent/sqlstore: migration %s: %w", name, err)
		}
	}
	return nil
}

// inTx runs f in a transaction that, on PostgreSQL, holds the migration lock.
func inTx(ctx context.Context, db *sql.DB, dialect Dialect, f func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if dialect == PostgreSQL {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock("+strconv.FormatInt(migrationLock, 10)+")"); err != nil {
			return err
		}
	}
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}
