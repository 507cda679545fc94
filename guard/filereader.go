package guard

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// OpenFileReader opens a private in-memory DuckDB that may read the one
// file at path and nothing else, for tsgate's own reads of a file it
// wrote (an uploaded Parquet file spooled to disk). DuckDB accepts an
// allowed path only while external access is on and refuses it as a
// startup option, so the engine starts with external access on, no
// extension installed or loaded, and one connection; before that
// connection runs anything, it allows the path, turns external access
// off and locks the configuration. The caller runs only its own
// statements on conn and closes db when done.
func OpenFileReader(ctx context.Context, path string) (db *sql.DB, conn *sql.Conn, err error) {
	connector, err := duckdb.NewConnector("?threads=1&autoinstall_known_extensions=false&autoload_known_extensions=false", nil)
	if err != nil {
		return nil, nil, fmt.Errorf("guard: open file reader: %w", err)
	}
	db = sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	if conn, err = db.Conn(ctx); err != nil {
		db.Close()
		return nil, nil, err
	}
	for _, q := range []string{
		"SET allowed_paths = ['" + strings.ReplaceAll(path, "'", "''") + "']",
		PinZone,
		"SET enable_external_access = false",
		"SET lock_configuration = true",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			conn.Close()
			db.Close()
			return nil, nil, fmt.Errorf("guard: lock down file reader: %w", err)
		}
	}
	return db, conn, nil
}
