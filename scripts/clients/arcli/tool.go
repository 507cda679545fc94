//go:build ignore

// Helper for run.sh, built from tsgate's own module (its Arrow and
// MessagePack dependencies), so the harness needs nothing else:
//
//	tool arrowdump < stream   prints an Arrow IPC stream's schema and rows as text
//	tool parquet FILE         writes the Parquet file `arcli import parquet` loads
//	tool msgpack FILE         writes the MessagePack document `arcli write --format msgpack` sends
package main

import (
	"database/sql"
	"fmt"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/vmihailenco/msgpack/v5"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "tool:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: tool arrowdump | parquet FILE | msgpack FILE")
	}
	switch args[0] {
	case "arrowdump":
		return arrowDump()
	case "parquet":
		return writeParquet(args[1])
	case "msgpack":
		return writeMsgpack(args[1])
	}
	return fmt.Errorf("unknown command %q", args[0])
}

func arrowDump() error {
	r, err := ipc.NewReader(os.Stdin)
	if err != nil {
		return err
	}
	defer r.Release()
	for _, f := range r.Schema().Fields() {
		fmt.Printf("field %s %s nullable=%t\n", f.Name, f.Type, f.Nullable)
	}
	n := 0
	for r.Next() {
		rec := r.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			row := ""
			for c := 0; c < int(rec.NumCols()); c++ {
				if c > 0 {
					row += " | "
				}
				row += rec.Column(c).ValueStr(i)
			}
			fmt.Println(row)
			n++
		}
	}
	fmt.Printf("(%d rows)\n", n)
	return r.Err()
}

// writeParquet lets DuckDB write the file: 24 rows, 5 minutes apart from
// 2026-12-05T10:00Z, a timestamp, a string, a double and a boolean column.
func writeParquet(path string) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(`COPY (SELECT TIMESTAMPTZ '2026-12-05 10:00:00+00' + i * INTERVAL 5 MINUTE AS time,
		['north', 'south', 'east'][i % 3 + 1] AS station, i * 0.5 - 3 AS temp, i % 4 <> 0 AS ok
		FROM range(24) t(i)) TO '` + strings.ReplaceAll(path, "'", "''") + `' (FORMAT parquet)`)
	return err
}

func writeMsgpack(path string) error {
	doc := map[string]any{
		"m": "mp_columnar",
		"columns": map[string]any{
			"time":  []int64{1796468400000, 1796468460000, 1796468520000},
			"host":  []string{"a", "b", "c"},
			"value": []float64{1.5, 2.5, 3.5},
		},
	}
	b, err := msgpack.Marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
