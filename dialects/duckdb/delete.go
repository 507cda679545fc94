package duckdb

import (
	"context"
	"database/sql"
	"errors"

	"tsgate/dialects"
	"tsgate/dialects/duckdbsql"
	"tsgate/errs"
	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// DeleteRows deletes measurement m's rows of db for which where holds,
// in one transaction on the writer connection. The condition is printed
// by the DuckDB generator from its AST, the way a query's WHERE is.
func (s *Store) DeleteRows(ctx context.Context, db, m string, where ast.Expr) error {
	if !s.HasTable(db, m) {
		return nil
	}
	cond, err := duckdbsql.New().(dialects.Predicater).Predicate(where, &target.Env{Database: db})
	if err != nil {
		return err
	}
	stmt := "DELETE FROM " + quoteIdent(dataSchema(db)) + "." + quoteIdent(m) + " WHERE " + cond
	return s.alone(ctx, func(ctx context.Context, conn *sql.Conn) error {
		return inTx(ctx, conn, func() error {
			_, err := conn.ExecContext(ctx, stmt)
			return err
		})
	})
}

// DropDatabase deletes db: its measurements, their tables and tsgate's
// column metadata, in one transaction.
func (s *Store) DropDatabase(ctx context.Context, db string) error {
	err := s.alone(ctx, func(ctx context.Context, conn *sql.Conn) error {
		return inTx(ctx, conn, func() error {
			for _, q := range []string{
				"DROP SCHEMA IF EXISTS " + quoteIdent(db) + " CASCADE",
				"DROP SCHEMA IF EXISTS " + quoteIdent(dataSchema(db)) + " CASCADE",
			} {
				if _, err := conn.ExecContext(ctx, q); err != nil {
					return err
				}
			}
			_, err := conn.ExecContext(ctx, "DELETE FROM "+quoteIdent(metaSchema)+".columns WHERE db = ?", db)
			return err
		})
	})
	if err != nil {
		return err
	}
	s.smu.Lock()
	delete(s.schema, db)
	s.schemaVersion.Add(1)
	s.smu.Unlock()
	return nil
}

func inTx(ctx context.Context, conn *sql.Conn, fn func() error) error {
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return errs.Wrap(errs.Engine, err, err.Error())
	}
	if err := fn(); err != nil {
		_, rerr := conn.ExecContext(ctx, "ROLLBACK")
		return errs.Wrap(errs.Engine, errors.Join(err, rerr), err.Error())
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return errs.Wrap(errs.Engine, err, err.Error())
	}
	return nil
}
