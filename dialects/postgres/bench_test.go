package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"tsgate/dialects/backendkit/kittest"
)

// Side by side: ingest through the backend (binary COPY built from the
// typed columns, schema checks, one transaction) vs pgx's CopyFrom into
// the same table, and a small query through the backend (search_path,
// text decoding to model.Value) vs the same query on the pool.
const benchRows = 5000

func BenchmarkWriteBackend(b *testing.B) {
	be, db := open(b)
	kittest.BenchWrite(b, be, db, benchRows)
}

func BenchmarkWriteDirect(b *testing.B) {
	be, db := open(b)
	ctx := context.Background()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	// The table exists (made by the backend) so only COPY is timed.
	kittest.MustWrite(b, be, db, kittest.CPUBatch(start.Add(-time.Hour), 1))
	b.ResetTimer()
	for i := range b.N {
		t := kittest.CPUBatch(start.Add(time.Duration(i)*time.Hour), benchRows).Tables[0]
		cols := []string{"time"}
		for _, c := range t.Columns {
			cols = append(cols, c.Name)
		}
		rows := make([][]any, t.Len())
		for r := range rows {
			row := make([]any, 0, len(cols))
			row = append(row, time.UnixMicro(t.Time[r]))
			for _, c := range t.Columns {
				if c.Tag {
					row = append(row, c.S[r])
				} else {
					row = append(row, c.F[r])
				}
			}
			rows[r] = row
		}
		if _, err := be.Pool().CopyFrom(ctx, pgx.Identifier{db, "cpu"}, cols, pgx.CopyFromRows(rows)); err != nil {
			b.Fatal(err)
		}
	}
	kittest.ReportRows(b, benchRows)
}

const benchQuery = `SELECT time, usage_user, usage_system FROM cpu WHERE hostname = 'host_7' ORDER BY time LIMIT 10`

func BenchmarkQueryBackend(b *testing.B) {
	be, db := open(b)
	kittest.SeedCPU(b, be, db, benchRows)
	kittest.BenchQuery(b, be, db, benchQuery, 3)
}

func BenchmarkQueryDirect(b *testing.B) {
	be, db := open(b)
	ctx := context.Background()
	kittest.SeedCPU(b, be, db, benchRows)
	q := `SELECT time, usage_user, usage_system FROM "` + db + `".cpu WHERE hostname = 'host_7' ORDER BY time LIMIT 10`
	b.ResetTimer()
	for range b.N {
		rows, err := be.Pool().Query(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		var t time.Time
		var u, s float64
		for rows.Next() {
			rows.Scan(&t, &u, &s)
		}
		rows.Close()
	}
}
