//go:build ignore

// Harness: drives the real Grafana Arc datasource backend (unchanged) the
// way Grafana does — CheckHealth, then QueryData for dashboard panels and
// variables — against one Arc-compatible server, and prints every frame.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/basekick-labs/grafana-arc-datasource/pkg/plugin"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

func main() {
	url, token, db := os.Args[1], os.Args[2], os.Args[3]
	ctx := context.Background()
	ds := plugin.NewArcDatasource()
	for _, arrow := range []bool{true, false} {
		js, _ := json.Marshal(map[string]any{"url": url, "database": db, "useArrow": arrow, "timeout": 30})
		pc := backend.PluginContext{DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{
			ID: 1, UID: fmt.Sprintf("arc-%v", arrow), JSONData: js, Updated: time.Unix(int64(boolInt(arrow)), 0),
			DecryptedSecureJSONData: map[string]string{"apiKey": token}}}
		fmt.Printf("=== useArrow=%v\n", arrow)
		h, err := ds.CheckHealth(ctx, &backend.CheckHealthRequest{PluginContext: pc})
		if err != nil {
			fmt.Println("CheckHealth error:", err)
		} else {
			fmt.Printf("CheckHealth: %s %q\n", h.Status, h.Message)
		}
		from := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
		to := from.Add(2 * time.Hour)
		tr := backend.TimeRange{From: from, To: to}
		queries := []struct{ name, sql, format, split string }{
			{"timeseries-timeGroup", "SELECT $__timeGroup(time, '5m') AS time, avg(usage) AS usage FROM cpu WHERE $__timeFilter(time) GROUP BY 1 ORDER BY 1", "time_series", "off"},
			{"timeseries-by-host", "SELECT $__timeGroup(time, '15m') AS time, host, max(usage) AS usage FROM cpu WHERE $__timeFilter(time) GROUP BY 1, 2 ORDER BY 1, 2", "time_series", "off"},
			{"timeseries-interval", "SELECT time_bucket(INTERVAL $__interval, time) AS time, count(*) AS n FROM cpu WHERE $__timeFilter(time) GROUP BY 1 ORDER BY 1", "time_series", "off"},
			{"timeseries-date_trunc", "SELECT date_trunc('hour', time) AS time, sum(n) AS n FROM cpu WHERE time >= $__timeFrom() AND time < $__timeTo() GROUP BY 1 ORDER BY 1", "time_series", "off"},
			{"timeseries-split-1h", "SELECT $__timeGroup(time, '10m') AS time, avg(usage) AS usage FROM cpu WHERE $__timeFilter(time) GROUP BY 1 ORDER BY 1", "time_series", "1h"},
			{"timeseries-split-auto", "SELECT $__timeGroup(time, '1m') AS time, host, avg(usage) AS usage FROM cpu WHERE $__timeFilter(time) GROUP BY 1, 2 ORDER BY 1, 2", "time_series", "auto"},
			{"table-raw", "SELECT time, host, region, usage, n, ok FROM cpu WHERE $__timeFilter(time) ORDER BY time, host LIMIT 20", "table", "off"},
			{"table-agg", "SELECT host, region, count(*) AS c, sum(n) AS s, avg(usage) AS a, min(time) AS first FROM cpu WHERE $__timeFilter(time) GROUP BY host, region ORDER BY host", "table", "off"},
			{"table-last", "SELECT host, arg_max(usage, time) AS usage, max(time) AS at FROM cpu GROUP BY host ORDER BY host", "table", "off"},
			{"timeseries-bucket-5m-filtered", "SELECT time_bucket(INTERVAL '5 minutes', time) AS time, host, quantile_cont(usage, 0.95) AS p95 FROM cpu WHERE $__timeFilter(time) AND host IN ('a', 'b') GROUP BY 1, 2 ORDER BY 1, 2", "time_series", "off"},
			{"timeseries-7m-buckets", "SELECT time_bucket(INTERVAL '7 minutes', time) AS time, count(*) AS n FROM cpu WHERE $__timeFilter(time) AND region IS NULL GROUP BY 1 ORDER BY 1", "time_series", "off"},
			{"table-regex-like", "SELECT host, count(*) FILTER (WHERE ok) AS ok, count(*) AS c FROM cpu WHERE $__timeFilter(time) AND (host ~ '^[ab]$' OR region LIKE 'e%') GROUP BY host ORDER BY host", "table", "off"},
			{"variable-hosts", "SELECT DISTINCT host FROM cpu ORDER BY host", "table", "off"},
			{"variable-show-tables", "SHOW TABLES", "table", "off"},
			{"variable-show-databases", "SHOW DATABASES", "table", "off"},
			{"cross-db", "SELECT count(*) AS c FROM " + db + ".cpu", "table", "off"},
			{"empty-range", "SELECT time, usage FROM cpu WHERE time < '2000-01-01' ORDER BY time", "table", "off"},
			{"error-bad-column", "SELECT nope FROM cpu", "table", "off"},
		}
		for _, q := range queries {
			qj, _ := json.Marshal(map[string]any{"sql": q.sql, "format": q.format, "splitDuration": q.split})
			resp, err := ds.QueryData(ctx, &backend.QueryDataRequest{PluginContext: pc, Queries: []backend.DataQuery{{
				RefID: "A", JSON: qj, TimeRange: tr, Interval: time.Minute, MaxDataPoints: 1000}}})
			fmt.Printf("--- %s\n", q.name)
			if err != nil {
				fmt.Println("QueryData error:", err)
				continue
			}
			r := resp.Responses["A"]
			if r.Error != nil {
				fmt.Printf("error (status %d): %v\n", r.Status, r.Error)
			}
			for _, f := range r.Frames {
				printFrame(f)
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func printFrame(f *data.Frame) {
	fmt.Printf("frame %q rows=%d\n", f.Name, f.Rows())
	for _, fl := range f.Fields {
		var labels []string
		for k, v := range fl.Labels {
			labels = append(labels, k+"="+v)
		}
		sort.Strings(labels)
		fmt.Printf("  field %q %s labels=%v\n", fl.Name, fl.Type(), labels)
	}
	for i := 0; i < f.Rows(); i++ {
		row := ""
		for _, fl := range f.Fields {
			v, ok := fl.ConcreteAt(i)
			if !ok {
				row += " NULL"
				continue
			}
			if t, ok := v.(time.Time); ok {
				v = t.UTC().Format(time.RFC3339Nano)
			}
			row += fmt.Sprintf(" %v", v)
		}
		fmt.Printf("  row%s\n", row)
	}
}
