package influxql_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"tsgate/dialects/backendkit/kittest"
	"tsgate/dialects/influxql"
	"tsgate/model"
)

// Side by side: ingest through the backend (type resolution, metadata,
// encoding) vs the same line protocol POSTed directly, and a small query
// through the backend (msgpack decoding to model.Value) vs the same
// InfluxQL read as JSON directly.
func benchBackend(b *testing.B) (*influxql.Backend, string, string) {
	be, db := open(b)
	return be, db, kittest.URL(b, "TSGATE_TEST_INFLUX_URL")
}

const benchRows = 5000

func BenchmarkWriteBackend(b *testing.B) {
	be, db, _ := benchBackend(b)
	kittest.BenchWrite(b, be, db, benchRows)
}

func BenchmarkWriteDirect(b *testing.B) {
	_, db, base := benchBackend(b)
	http.Post(base+"/query?q=CREATE+DATABASE+"+db, "", nil)
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for i := range b.N {
		batch := kittest.CPUBatch(start.Add(time.Duration(i)*time.Hour), benchRows)
		body := lineProtocol(batch.Tables[0])
		resp, err := http.Post(base+"/write?precision=u&db="+db, "text/plain", bytes.NewReader(body))
		if err != nil || resp.StatusCode != 204 {
			b.Fatal(err, resp)
		}
		resp.Body.Close()
	}
	kittest.ReportRows(b, benchRows)
}

// lineProtocol is the plain encoding a direct client does (no escaping
// needed for this data).
func lineProtocol(t *model.Table) []byte {
	var buf []byte
	for i := range t.Len() {
		buf = append(buf, t.Measurement...)
		for _, c := range t.Columns {
			if c.Tag {
				buf = append(buf, ',')
				buf = append(buf, c.Name...)
				buf = append(buf, '=')
				buf = append(buf, c.S[i]...)
			}
		}
		sep := byte(' ')
		for _, c := range t.Columns {
			if !c.Tag {
				buf = append(buf, sep)
				sep = ','
				buf = append(buf, c.Name...)
				buf = append(buf, '=')
				buf = strconv.AppendFloat(buf, c.F[i], 'g', -1, 64)
			}
		}
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, t.Time[i], 10)
		buf = append(buf, '\n')
	}
	return buf
}

const benchQuery = `SELECT "usage_user", "usage_system" FROM "cpu" WHERE "hostname" = 'host_7' LIMIT 10`

func BenchmarkQueryBackend(b *testing.B) {
	be, db, _ := benchBackend(b)
	kittest.SeedCPU(b, be, db, benchRows)
	kittest.BenchQuery(b, be, db, benchQuery, 3)
}

func BenchmarkQueryDirect(b *testing.B) {
	be, db, base := benchBackend(b)
	kittest.SeedCPU(b, be, db, benchRows)
	u := fmt.Sprintf("%s/query?db=%s&epoch=u&q=%s", base, db, urlQueryEscape(benchQuery))
	b.ResetTimer()
	for range b.N {
		resp, err := http.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		var sink bytes.Buffer
		sink.ReadFrom(resp.Body)
		resp.Body.Close()
	}
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
