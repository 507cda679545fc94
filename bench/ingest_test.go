package bench

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	ddb "github.com/duckdb/duckdb-go/v2"

	"tsgate/dialects/duckdb"
	"tsgate/internal/gatewaytest"
	"tsgate/model"
)

const token = "bench-token-0123456789abcdef"

// startGateway runs a real tsgate (embedded store, loopback listener).
func startGateway(b *testing.B) string { return startGatewayAt(b, b.TempDir()) }

func startGatewayAt(b *testing.B, dataDir string) string {
	b.Helper()
	cfg := gatewaytest.Config(b)
	cfg.DataDir = dataDir
	cfg.Memtrace.Listen = "127.0.0.1:0"
	cfg.PGWire.Listen = "127.0.0.1:0"
	cfg.Auth.BootstrapToken = token
	return gatewaytest.ArcBase(gatewaytest.Start(b, cfg))
}

// ingest posts pre-built bodies from 4 concurrent clients and reports rows/s.
func ingest(b *testing.B, path string, body func(n, off int) []byte, batch int) {
	base := startGateway(b)
	const clients = 4
	bodies := make([][]byte, 8)
	for i := range bodies {
		bodies[i] = body(batch, i*batch)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	el := parallel(b, clients, func(i int) error {
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(bodies[i%len(bodies)]))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("x-arc-database", "bench")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 204 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	b.ReportMetric(float64(int64(b.N)*int64(batch))/el.Seconds(), "rows/s")
}

// parallel resets the timer and runs send(0) … send(b.N-1) from clients
// concurrent workers, a worker sending nothing more after its first
// error; it fails the benchmark with that error and returns the time
// taken.
func parallel(b *testing.B, clients int, send func(i int) error) time.Duration {
	b.Helper()
	work := make(chan int)
	errc := make(chan error, clients)
	b.ResetTimer()
	start := time.Now()
	for range clients {
		go func() {
			var err error
			for i := range work {
				if err == nil {
					err = send(i)
				}
			}
			errc <- err
		}()
	}
	for i := range b.N {
		work <- i
	}
	close(work)
	for range clients {
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

func BenchmarkIngestHTTP(b *testing.B) {
	for _, batch := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("lineprotocol/batch=%d", batch), func(b *testing.B) {
			ingest(b, "/api/v1/write/line-protocol", LineProtocol, batch)
		})
		b.Run(fmt.Sprintf("msgpack/batch=%d", batch), func(b *testing.B) {
			ingest(b, "/api/v1/write/msgpack", MessagePack, batch)
		})
	}
}

// tableBatch is the same rows already decoded.
func tableBatch(n, off int) *model.Batch {
	var bt model.Batch
	t := bt.Table("cpu")
	cells := make([]model.Cell, 0, 13)
	for i := range n {
		r := off + i
		cells = cells[:0]
		cells = append(cells,
			model.Cell{Name: "hostname", Tag: true, Value: model.String(fmt.Sprintf("host_%d", r%Hosts))},
			model.Cell{Name: "region", Tag: true, Value: model.String("eu-west-1")},
			model.Cell{Name: "datacenter", Tag: true, Value: model.String("eu-west-1a")})
		for j, f := range FieldNames {
			cells = append(cells, model.Cell{Name: f, Value: model.Float(float64((r+j)%100) + float64(j)/10)})
		}
		if err := t.AppendRow((int64(1764115200)+int64(r))*1_000_000, cells); err != nil {
			panic(err)
		}
	}
	return &bt
}

// BenchmarkIngestAppender is the baseline the goal is stated against: the
// same rows, already in memory, appended with duckdb-go's Appender into a
// plain table and committed, with nothing of tsgate in the way.
func BenchmarkIngestAppender(b *testing.B) {
	for _, batch := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			connector, err := ddb.NewConnector(filepath.Join(b.TempDir(), "raw.duckdb"), nil)
			if err != nil {
				b.Fatal(err)
			}
			db := sql.OpenDB(connector)
			defer db.Close()
			cols := "time TIMESTAMPTZ, hostname VARCHAR, region VARCHAR, datacenter VARCHAR"
			for _, f := range FieldNames {
				cols += ", " + f + " DOUBLE"
			}
			if _, err := db.Exec("CREATE TABLE cpu (" + cols + ")"); err != nil {
				b.Fatal(err)
			}
			conn, err := db.Conn(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			rows := make([][]driver.Value, batch)
			for i := range rows {
				row := []driver.Value{time.Unix(1764115200+int64(i), 0), fmt.Sprintf("host_%d", i%Hosts), "eu-west-1", "eu-west-1a"}
				for j := range FieldNames {
					row = append(row, float64((i+j)%100)+float64(j)/10)
				}
				rows[i] = row
			}
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				err := conn.Raw(func(dc any) error {
					app, err := ddb.NewAppenderFromConn(dc.(driver.Conn), "", "cpu")
					if err != nil {
						return err
					}
					for _, r := range rows {
						if err := app.AppendRow(r...); err != nil {
							return err
						}
					}
					return app.Close()
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(int64(b.N)*int64(batch))/time.Since(start).Seconds(), "rows/s")
		})
	}
}

// BenchmarkIngestDirect is tsgate's store without HTTP: the same rows, already decoded,
// appended straight into the store (DuckDB appender in one transaction),
// with no HTTP and no decoding. Run with BenchmarkIngestHTTP and compare
// rows/s.
func BenchmarkIngestDirect(b *testing.B) {
	for _, batch := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("appender/batch=%d", batch), func(b *testing.B) {
			s, err := duckdb.Open(context.Background(), filepath.Join(b.TempDir(), "d.duckdb"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			bt := tableBatch(batch, 0)
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				if _, err := s.Write(context.Background(), "bench", bt); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(int64(b.N)*int64(batch))/time.Since(start).Seconds(), "rows/s")
		})
	}
}
