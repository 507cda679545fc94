package duckdb

import (
	"context"
	"database/sql"

	"tsgate/errs"
	"tsgate/guard"
	"tsgate/model"
)

// ReadParquetFile streams the rows of the Parquet file at path, typed as
// the store's queries are, from a private engine that may read that one
// file and nothing else (guard.OpenFileReader); the engine closes with
// the rows. The statement is tsgate's own, the path quoted: no user text.
func ReadParquetFile(ctx context.Context, path string) (model.Rows, error) {
	db, conn, err := guard.OpenFileReader(ctx, path)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, err.Error())
	}
	rows, err := conn.QueryContext(ctx, "SELECT * FROM read_parquet("+quoteLiteral(path)+")")
	if err != nil {
		conn.Close()
		db.Close()
		return nil, classify(ctx, err)
	}
	r, err := NewRows(ctx, conn, rows)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &closingRows{Rows: r, db: db}, nil
}

// closingRows closes its private engine after the rows.
type closingRows struct {
	model.Rows
	db *sql.DB
}

func (r *closingRows) Close() error {
	err := r.Rows.Close()
	if r.db != nil {
		r.db.Close()
		r.db = nil
	}
	return err
}
