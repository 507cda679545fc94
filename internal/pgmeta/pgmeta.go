package pgmeta

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// lock is the advisory lock every creator of _tsgate objects takes (auth,
// manage and the PostgreSQL backend all create through Create).
const lock = `SELECT pg_advisory_xact_lock(hashtext('tsgate:meta'))`

// Create runs stmts in one transaction on db, after taking the lock and
// creating the schema _tsgate when it is missing.
func Create(ctx context.Context, db interface {
	Begin(context.Context) (pgx.Tx, error)
}, stmts ...string) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		for _, q := range append([]string{lock, `CREATE SCHEMA IF NOT EXISTS _tsgate`}, stmts...) {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
}
