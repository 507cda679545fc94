package pgwire

import (
	"context"
	"net"
	"os"
	"os/signal"
	"testing"

	"github.com/jackc/pgx/v5"

	"tsgate/model"
)

// oneRow answers every query with a single int8 1, so benchmarks measure
// the protocol and session layers alone.
type oneRow struct{}

func (oneRow) Query(context.Context, string, string) (model.Rows, error) {
	return &model.SliceRows{Cols: []model.ResultColumn{{Name: "?column?", Type: model.TypeInt, BackendType: "INTEGER"}},
		Data: [][]model.Value{{model.Int(1)}}}, nil
}

func serveLocal(tb testing.TB, addr string) (string, func()) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	s := New(oneRow{}, Config{})
	go s.Serve(ln)
	return ln.Addr().String(), func() { s.Shutdown(context.Background()) }
}

func BenchmarkProtocolSelect1(b *testing.B) {
	addr, stop := serveLocal(b, "127.0.0.1:0")
	defer stop()
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		b.Run(mode.String(), func(b *testing.B) {
			c, err := pgx.Connect(context.Background(), "postgres://u@"+addr+"/d?sslmode=disable")
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close(context.Background())
			b.ReportAllocs()
			for b.Loop() {
				var n int
				if err := c.QueryRow(context.Background(), "SELECT 1", mode).Scan(&n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestServeForPgbench serves the protocol layer alone (no auth, one-row
// executor) on $PGWIRE_BENCH_ADDR until interrupted, for pgbench:
//
//	PGWIRE_BENCH_ADDR=127.0.0.1:25499 go test ./wire/pgwire -run TestServeForPgbench -timeout 0 &
//	pgbench -n -c 8 -j 2 -T 10 -M simple -f select1.sql -h 127.0.0.1 -p 25499 -U u d
func TestServeForPgbench(t *testing.T) {
	addr := os.Getenv("PGWIRE_BENCH_ADDR")
	if addr == "" {
		t.Skip("set PGWIRE_BENCH_ADDR to serve for pgbench")
	}
	_, stop := serveLocal(t, addr)
	defer stop()
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	<-ch
}
