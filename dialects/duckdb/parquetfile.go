package duckdb

import (
	"context"

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
	return newRows(ctx, rows, func(err error) {
		releaseConn(conn, err)
		db.Close()
	})
}
