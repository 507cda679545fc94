package clickhouse_test

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"tsgate/dialects/backendkit/kittest"
	"tsgate/dialects/clickhouse"
)

// Side by side: ingest through the backend (type resolution, metadata,
// TSV encoding) vs the same TSV INSERT posted directly, and a small
// query through the backend (typed TSV decoding) vs the same query read
// raw.
const benchRows = 5000

func openBench(b *testing.B) (*clickhouse.Backend, string, string) {
	be, db := open(b)
	base := kittest.URL(b, "TSGATE_TEST_CLICKHOUSE_URL")
	// Create the table through the backend, outside the timing.
	kittest.MustWrite(b, be, db, kittest.CPUBatch(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), benchRows))
	return be, db, base
}

func BenchmarkWriteBackend(b *testing.B) {
	be, db, _ := openBench(b)
	kittest.BenchWrite(b, be, db, benchRows)
}

func BenchmarkWriteDirect(b *testing.B) {
	_, db, base := openBench(b)
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for i := range b.N {
		t := kittest.CPUBatch(start.Add(time.Duration(i)*time.Hour), benchRows).Tables[0]
		q := "INSERT INTO `" + db + "`.cpu (time"
		for _, c := range t.Columns {
			q += ", " + c.Name
		}
		q += ") FORMAT TabSeparated\n"
		buf := []byte(q)
		for r := range t.Len() {
			buf = time.UnixMicro(t.Time[r]).UTC().AppendFormat(buf, "2006-01-02 15:04:05")
			for _, c := range t.Columns {
				buf = append(buf, '\t')
				if c.Tag {
					buf = append(buf, c.S[r]...)
				} else {
					buf = strconv.AppendFloat(buf, c.F[r], 'g', -1, 64)
				}
			}
			buf = append(buf, '\n')
		}
		resp, err := http.Post(base+"/", "text/plain", bytes.NewReader(buf))
		if err != nil || resp.StatusCode != 200 {
			b.Fatal(err, resp)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	kittest.ReportRows(b, benchRows)
}

const benchQuery = `SELECT time, usage_user, usage_system FROM cpu WHERE hostname = 'host_7' ORDER BY time LIMIT 10`

func BenchmarkQueryBackend(b *testing.B) {
	be, db, _ := openBench(b)
	kittest.BenchQuery(b, be, db, benchQuery, 3)
}

func BenchmarkQueryDirect(b *testing.B) {
	_, db, base := openBench(b)
	u := base + "/?database=" + db
	b.ResetTimer()
	for range b.N {
		resp, err := http.Post(u, "text/plain", bytes.NewReader([]byte(benchQuery+" FORMAT TabSeparated")))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
