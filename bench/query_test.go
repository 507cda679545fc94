package bench

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"tsgate/dialects/duckdb"
	"tsgate/gateway"
	"tsgate/internal/testenv"
	"tsgate/model"
)

const queryRows = 1_000_000

// bucketQuery is a dashboard's 1-hour aggregate over the whole measurement.
const bucketQuery = `SELECT time_bucket(INTERVAL '1 hour', time) AS bucket, avg(usage_user) AS mean_user, max(usage_system) AS max_system
FROM cpu GROUP BY bucket ORDER BY bucket`

// loadRows fills dataDir's store with queryRows cpu rows (one a second,
// 100 hosts) before any server opens it.
func loadRows(b *testing.B, dataDir string) {
	b.Helper()
	s, err := duckdb.Open(context.Background(), gateway.StorePath(dataDir))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const chunk = 100_000
	for off := 0; off < queryRows; off += chunk {
		if _, err := s.Write(context.Background(), "bench", tableBatch(chunk, off)); err != nil {
			b.Fatal(err)
		}
	}
}

// wantRows reads every row a query answered and closes them, failing b
// if the query or the reading failed or the rows were not want.
func wantRows(b *testing.B, rows model.Rows, err error, want int) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
	vals := make([]model.Value, len(rows.Columns()))
	n := 0
	for rows.Next(vals) {
		n++
	}
	if err := rows.Err(); err != nil || n != want {
		b.Fatalf("%d rows, want %d: %v", n, want, err)
	}
	rows.Close()
}

// BenchmarkQueryTimeBucket runs the 1-hour bucket aggregate over 1M rows
// through the Arc HTTP API and, as the baseline, straight on the store.
func BenchmarkQueryTimeBucket(b *testing.B) {
	dir := b.TempDir()
	loadRows(b, dir)
	b.Run("direct", func(b *testing.B) {
		s, err := duckdb.Open(context.Background(), filepath.Join(dir, "tsgate.duckdb"))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		for range b.N {
			rows, err := s.Query(context.Background(), "bench", bucketQuery)
			wantRows(b, rows, err, 278)
		}
	})
	b.Run("http", func(b *testing.B) {
		base := startGatewayAt(b, dir)
		body := testenv.ArcQuery(bucketQuery)
		for range b.N {
			req, _ := http.NewRequest("POST", base+"/api/v1/query", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("x-arc-database", "bench")
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Contains(out, []byte(`"row_count":278`)) {
				b.Fatalf("status %d: %.200s", resp.StatusCode, out)
			}
		}
	})
}
