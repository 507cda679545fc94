package migrate

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"tsgate/model"
)

// Benchmark dataset: TSBS's devops cpu shape, 4 tags and 10 float fields,
// benchHosts hosts every 10 s for benchSteps steps (whole seconds, which
// every target keeps).
const (
	benchHosts = 50
	benchSteps = 3600 // 10 h
	benchRows  = benchHosts * benchSteps
)

var benchTags = []string{"hostname", "region", "datacenter", "os"}

var benchFields = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
	"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

type benchRow struct {
	t      time.Time
	tags   [4]string
	fields [10]float64
}

func benchData() []benchRow {
	base := time.Date(2025, 11, 26, 0, 0, 0, 0, time.UTC)
	rows := make([]benchRow, 0, benchRows)
	for s := range benchSteps {
		for h := range benchHosts {
			r := benchRow{t: base.Add(time.Duration(s) * 10 * time.Second)}
			r.tags = [4]string{fmt.Sprintf("host_%d", h), []string{"eu-west-1", "us-east-1", "ap-south-1"}[h%3], fmt.Sprintf("dc%d", h%6), []string{"Ubuntu16.10", "Ubuntu16.04LTS"}[h%2]}
			for f := range r.fields {
				r.fields[f] = float64((s*31+h*17+f*7)%10000) / 100
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// benchSource loads the rows into an embedded store's database db.
func benchSource(b *testing.B, db string, rows []benchRow) *Side {
	src := embeddedSide(b, "src")
	for i := 0; i < len(rows); i += 50_000 {
		var batch model.Batch
		t := batch.Table("cpu")
		cells := make([]model.Cell, 0, 14)
		for _, r := range rows[i:min(i+50_000, len(rows))] {
			cells = cells[:0]
			for j, n := range benchTags {
				cells = append(cells, model.Cell{Name: n, Tag: true, Value: model.String(r.tags[j])})
			}
			for j, n := range benchFields {
				cells = append(cells, model.Cell{Name: n, Value: model.Float(r.fields[j])})
			}
			if err := t.AppendRow(r.t.UnixMicro(), cells); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := src.Backend.Write(context.Background(), db, &batch); err != nil {
			b.Fatal(err)
		}
	}
	return src
}

// bulkLoader loads the rows into the target directly, the way the
// target's own tools do, into a database of its own; it returns the
// target's row count afterwards and the time the load took (preparing the
// payload excluded).
type bulkLoader func(b *testing.B, rt *realTarget, rows []benchRow) (int64, time.Duration)

// timed runs f with b's timer on and returns its duration.
func timed(b *testing.B, f func()) time.Duration {
	start := time.Now()
	b.StartTimer()
	f()
	b.StopTimer()
	return time.Since(start)
}

var bulkLoaders = map[string]bulkLoader{
	// Line protocol POSTed to /write, 5,000 points per request
	// (InfluxData's recommended batch), pre-encoded.
	"influxdb": func(b *testing.B, rt *realTarget, rows []benchRow) (int64, time.Duration) {
		db := rt.db + "_bulk"
		influxScalar(b, rt.http, "", `DROP DATABASE "`+db+`"`)
		influxScalar(b, rt.http, "", `CREATE DATABASE "`+db+`"`)
		defer influxScalar(b, rt.http, "", `DROP DATABASE "`+db+`"`)
		var bodies [][]byte
		var buf bytes.Buffer
		for i, r := range rows {
			buf.WriteString("cpu")
			for j, n := range benchTags {
				buf.WriteString("," + n + "=" + r.tags[j])
			}
			for j, n := range benchFields {
				if j == 0 {
					buf.WriteByte(' ')
				} else {
					buf.WriteByte(',')
				}
				buf.WriteString(n + "=" + strconv.FormatFloat(r.fields[j], 'g', -1, 64))
			}
			buf.WriteString(" " + strconv.FormatInt(r.t.Unix(), 10) + "\n")
			if (i+1)%5000 == 0 || i == len(rows)-1 {
				bodies = append(bodies, bytes.Clone(buf.Bytes()))
				buf.Reset()
			}
		}
		d := timed(b, func() {
			for _, body := range bodies {
				resp, err := http.Post(rt.http+"/write?precision=s&db="+url.QueryEscape(db), "text/plain", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent {
					b.Fatalf("influx /write: %s", resp.Status)
				}
			}
		})
		n, _ := strconv.ParseInt(influxScalar(b, rt.http, db, `SELECT count("usage_user") FROM "cpu"`), 10, 64)
		return n, d
	},
	// COPY FROM STDIN (binary) through pgx into a table of the same
	// columns, with the rows already in memory.
	"postgres": func(b *testing.B, rt *realTarget, rows []benchRow) (int64, time.Duration) {
		ctx := context.Background()
		pool := rt.pg.Pool()
		schema := rt.db + "_bulk"
		cols := []string{"time"}
		ddl := `CREATE TABLE "` + schema + `".cpu (time timestamptz NOT NULL`
		for _, n := range benchTags {
			cols = append(cols, n)
			ddl += ", " + n + " text"
		}
		for _, n := range benchFields {
			cols = append(cols, n)
			ddl += ", " + n + " double precision"
		}
		for _, q := range []string{`DROP SCHEMA IF EXISTS "` + schema + `" CASCADE`, `CREATE SCHEMA "` + schema + `"`, ddl + ")"} {
			if _, err := pool.Exec(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
		defer pool.Exec(ctx, `DROP SCHEMA IF EXISTS "`+schema+`" CASCADE`)
		vals := make([][]any, len(rows))
		for i, r := range rows {
			v := make([]any, 0, 15)
			v = append(v, r.t)
			for _, s := range r.tags {
				v = append(v, s)
			}
			for _, f := range r.fields {
				v = append(v, f)
			}
			vals[i] = v
		}
		var n int64
		var err error
		d := timed(b, func() { n, err = pool.CopyFrom(ctx, pgx.Identifier{schema, "cpu"}, cols, pgx.CopyFromRows(vals)) })
		if err != nil {
			b.Fatal(err)
		}
		return n, d
	},
	// INSERT … FORMAT TabSeparated over HTTP, 100,000 rows per request,
	// into a MergeTree table like the one tsgate creates, pre-encoded.
	"clickhouse": func(b *testing.B, rt *realTarget, rows []benchRow) (int64, time.Duration) {
		db := rt.db + "_bulk"
		ddl := "CREATE TABLE `" + db + "`.cpu (time DateTime('UTC')"
		for _, n := range benchTags {
			ddl += ", " + n + " Nullable(String)"
		}
		for _, n := range benchFields {
			ddl += ", " + n + " Nullable(Float64)"
		}
		ddl += ") ENGINE = MergeTree() ORDER BY time"
		for _, q := range []string{"DROP DATABASE IF EXISTS `" + db + "`", "CREATE DATABASE `" + db + "`", ddl} {
			clickhouseScalar(b, rt.http, q)
		}
		defer clickhouseScalar(b, rt.http, "DROP DATABASE IF EXISTS `"+db+"`")
		var bodies [][]byte
		var buf bytes.Buffer
		for i, r := range rows {
			buf.WriteString(strconv.FormatInt(r.t.Unix(), 10))
			for _, s := range r.tags {
				buf.WriteString("\t" + s)
			}
			for _, f := range r.fields {
				buf.WriteString("\t" + strconv.FormatFloat(f, 'g', -1, 64))
			}
			buf.WriteByte('\n')
			if (i+1)%100_000 == 0 || i == len(rows)-1 {
				bodies = append(bodies, bytes.Clone(buf.Bytes()))
				buf.Reset()
			}
		}
		insert := rt.http + "/?query=" + url.QueryEscape("INSERT INTO `"+db+"`.cpu FORMAT TabSeparated")
		d := timed(b, func() {
			for _, body := range bodies {
				resp, err := http.Post(insert, "text/tab-separated-values", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("clickhouse insert: %s", resp.Status)
				}
			}
		})
		n, _ := strconv.ParseInt(clickhouseScalar(b, rt.http, "SELECT count() FROM `"+db+"`.cpu"), 10, 64)
		return n, d
	},
}

// BenchmarkBackfill copies benchRows rows from the embedded store to each
// real target with Backfill (default chunks: 1 h, 18,000 rows here) and
// loads the same rows into the same server with its own bulk path, in the
// same iteration, alternating which goes first. Reported: both rates and
// backfill as a percentage of bulk load. ns/op is one backfill plus one
// bulk load.
//
//	go test -run '^$' -bench Backfill -benchtime 3x ./migrate/
func BenchmarkBackfill(b *testing.B) {
	rows := benchData()
	for _, name := range []string{"influxdb", "postgres", "clickhouse"} {
		b.Run(name, func(b *testing.B) {
			b.StopTimer()
			db := openReal(b, name).db
			src := benchSource(b, db, rows)
			var backfill, bulk time.Duration
			for i := 0; i < b.N; i++ {
				runBackfill := func() {
					rt := openRealDB(b, name, db)
					var res *Result
					var err error
					backfill += timed(b, func() { res, err = Backfill(context.Background(), src, rt.side, Options{Database: db}) })
					if err != nil {
						b.Fatal(err)
					}
					if n := rt.count(b, "cpu", "usage_user"); res.Rows["cpu"] != benchRows || n != benchRows {
						b.Fatalf("backfill copied %d rows, the target holds %d, want %d", res.Rows["cpu"], n, benchRows)
					}
				}
				runBulk := func() {
					n, d := bulkLoaders[name](b, openRealDB(b, name, db), rows)
					bulk += d
					if n != benchRows {
						b.Fatalf("bulk load: the target holds %d rows, want %d", n, benchRows)
					}
				}
				if i%2 == 0 {
					runBackfill()
					runBulk()
				} else {
					runBulk()
					runBackfill()
				}
			}
			bf := float64(benchRows*b.N) / backfill.Seconds()
			bl := float64(benchRows*b.N) / bulk.Seconds()
			b.ReportMetric(bf, "backfill-rows/s")
			b.ReportMetric(bl, "bulk-rows/s")
			b.ReportMetric(100*bf/bl, "%-of-bulk")
		})
	}
}
