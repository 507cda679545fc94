package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"tsgate/bench"
)

// queryDB holds the query workload's rows, apart from the ingest
// workloads' (whose bodies repeat timestamps).
const queryDB = "benchq"

// queryLoad is one read both sides answer over the same rows: TSBS's cpu
// queries written in Arc's SQL.
type queryLoad struct{ key, title, sql string }

var queryLoads = []queryLoad{
	{"q.dgb", "double-groupby: avg per hour and host, all rows",
		`SELECT date_trunc('hour', time) AS hour, hostname, avg(usage_user) AS mean_usage_user FROM cpu GROUP BY 1, 2 ORDER BY 1, 2`},
	{"q.dgb12", "double-groupby, 12 hours (TSBS double-groupby-1)",
		`SELECT date_trunc('hour', time) AS hour, hostname, avg(usage_user) AS mean_usage_user FROM cpu WHERE time >= '2025-11-26T00:00:00Z' AND time < '2025-11-26T12:00:00Z' GROUP BY 1, 2 ORDER BY 1, 2`},
	{"q.lastpoint", "lastpoint: the newest row per host",
		`SELECT DISTINCT ON (hostname) * FROM cpu ORDER BY hostname, time DESC`},
	{"q.highcpu", "high-cpu: usage_user > 90 over 12 hours",
		`SELECT * FROM cpu WHERE usage_user > 90.0 AND time >= '2025-11-26T00:00:00Z' AND time < '2025-11-26T12:00:00Z' ORDER BY time`},
	{"q.limit", "newest 100 rows (ORDER BY time DESC LIMIT 100)",
		`SELECT * FROM cpu ORDER BY time DESC LIMIT 100`},
}

// loadQueryRows writes rows distinct workload rows (one per second) into
// queryDB on s and makes them durable and visible (Arc's flush).
func loadQueryRows(ctx context.Context, client *http.Client, s *side, rows int) error {
	const batch = 10_000
	l := workload{key: "query-load", path: "/api/v1/write/msgpack", ctype: "application/msgpack", db: queryDB,
		rows: batch, requests: (rows + batch - 1) / batch}
	l.next = func(i int) []byte { return bench.MessagePack(batch, i*batch) }
	if _, err := ingestRun(ctx, client, s, l); err != nil {
		return err
	}
	return post(ctx, client, s, queryDB, "/api/v1/write/line-protocol/flush", "", nil, http.StatusOK)
}

// answer is the part of Arc's JSON answer the workload checks.
type answer struct {
	Success  bool              `json:"success"`
	RowCount int               `json:"row_count"`
	Data     []json.RawMessage `json:"data"`
	Error    string            `json:"error"`
}

// queryOnce runs q on s and returns its latency and row count.
func queryOnce(ctx context.Context, client *http.Client, s *side, q queryLoad) (time.Duration, int, error) {
	body, err := json.Marshal(map[string]string{"sql": q.sql})
	if err != nil {
		return 0, 0, err
	}
	req, err := request(ctx, s, queryDB, "/api/v1/query", "application/json", body)
	if err != nil {
		return 0, 0, err
	}
	t := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	el := time.Since(t)
	if err != nil {
		return 0, 0, err
	}
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil || resp.StatusCode != http.StatusOK || !a.Success {
		return 0, 0, fmt.Errorf("%s: status %d: %.300s", q.key, resp.StatusCode, raw)
	}
	if a.RowCount != len(a.Data) {
		return 0, 0, fmt.Errorf("%s: row_count %d but %d rows", q.key, a.RowCount, len(a.Data))
	}
	return el, len(a.Data), nil
}

// queryRound runs every query n times on each side (sides in the given
// order, one client) and records each side's p50 for this round. The
// first round's row counts must agree between the sides: a faster wrong
// answer is not a result.
func queryRound(ctx context.Context, client *http.Client, order []*side, n int, res *results, counts map[string]int) error {
	for _, q := range queryLoads {
		for _, s := range order {
			lat := make([]time.Duration, 0, n)
			for range n {
				el, rows, err := queryOnce(ctx, client, s, q)
				if err != nil {
					return fmt.Errorf("%s: %w", s.name, err)
				}
				if want, ok := counts[q.key]; !ok {
					counts[q.key] = rows
				} else if rows != want {
					return fmt.Errorf("%s: %s answered %d rows, the other side %d", q.key, s.name, rows, want)
				}
				lat = append(lat, el)
			}
			slices.Sort(lat)
			res.add(s.name, q.key+".p50", ms(lat[len(lat)/2]))
		}
	}
	return nil
}
