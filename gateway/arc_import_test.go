package gateway

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// multipartFile builds the body arcli sends for `arcli import`: one part
// named "file" with the file's base name.
func multipartFile(t *testing.T, name string, content []byte) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

func importReq(t *testing.T, path, db, name string, content []byte) req {
	body, ct := multipartFile(t, name, content)
	h := map[string]string{"Content-Type": ct}
	if db != "" {
		h["x-arc-database"] = db
	}
	return req{path: path, header: h, body: body}
}

// TestArcImport: POST /api/v1/import/{csv,lp,parquet} as arcli sends them
// (multipart field "file", x-arc-database, non-empty params only), with
// Arc's result bodies (import_inprocess.go ImportResult, import.go
// LPImportResult), the rows landing through tsgate's write path.
func TestArcImport(t *testing.T) {
	ts := startGateway(t, nil)
	csvData := "\ufeffts,host,value,ok,note\n" +
		"2021-01-01T00:00:00Z,a,1,true,x\n" +
		"2021-01-01 00:00:01,b,2.5,false,\n" +
		"1609459202,a,,1,z\n"
	var gzLP bytes.Buffer
	zw := gzip.NewWriter(&gzLP)
	zw.Write([]byte("mem,host=a used=1 1609459200\nmem,host=b used=2 1609459260\ndisk,host=a free=3i 1609459200\n"))
	zw.Close()
	pq := parquetFile(t)
	steps := []contractStep{
		{"csv", importReq(t, "/api/v1/import/csv?measurement=sensors&time_column=ts", "imports", "data.csv", []byte(csvData)), 200,
			`{"result":{"database":"imports","measurement":"sensors","rows_imported":3,"partitions_created":1,"time_range_min":"2021-01-01T00:00:00Z","time_range_max":"2021-01-01T00:00:02Z","columns":["time","host","value","ok","note"],"duration_ms":X},"status":"ok"}`},
		{"csv rows typed as Arc infers them", arcQuery("SELECT time, host, value, ok, note FROM sensors ORDER BY time", "x-arc-database", "imports"), 200,
			`{"success":true,"columns":["time","host","value","ok","note"],"data":[["2021-01-01T00:00:00Z","a",1,true,"x"],["2021-01-01T00:00:01Z","b",2.5,false,""],["2021-01-01T00:00:02Z","a",null,true,"z"]],"row_count":3,"execution_time_ms":X,"timestamp":X}`},
		{"csv db from ?db=, ; delimiter, epoch_ms", importReq(t, "/api/v1/import/csv?db=imports&measurement=semi&delimiter=%3B&time_format=epoch_ms", "", "semi.csv", []byte("time;v\n1609459200000;7\n")), 200,
			`{"result":{"database":"imports","measurement":"semi","rows_imported":1,"partitions_created":1,"time_range_min":"2021-01-01T00:00:00Z","time_range_max":"2021-01-01T00:00:00Z","columns":["time","v"],"duration_ms":X},"status":"ok"}`},
		{"csv without measurement", importReq(t, "/api/v1/import/csv", "imports", "d.csv", []byte("time,v\n1,2\n")), 400, `{"error":"measurement query parameter is required"}`},
		{"csv without database", importReq(t, "/api/v1/import/csv?measurement=m", "", "d.csv", []byte("time,v\n1,2\n")), 400, `{"error":"database is required (set x-arc-database header or db query param)"}`},
		{"csv without time column", importReq(t, "/api/v1/import/csv?measurement=m", "imports", "d.csv", []byte("a,b\n1,2\n")), 400, `{"error":"time column \"time\" not found in file; available columns: a, b"}`},
		{"csv duplicate column", importReq(t, "/api/v1/import/csv?measurement=m", "imports", "d.csv", []byte("time,a,a\n1,2,3\n")), 400, `{"error":"duplicate column name \"a\" in file; column names must be unique"}`},
		{"csv no rows", importReq(t, "/api/v1/import/csv?measurement=m", "imports", "d.csv", []byte("time,a\n")), 400, `{"error":"file contains no rows"}`},
		{"csv empty", importReq(t, "/api/v1/import/csv?measurement=m", "imports", "d.csv", nil), 400, `{"error":"file is empty"}`},
		{"csv bad time", importReq(t, "/api/v1/import/csv?measurement=m", "imports", "d.csv", []byte("time,a\nyesterday,1\n")), 400, `{"error":"failed to parse time column \"time\": row 1: unrecognized time \"yesterday\""}`},
		{"csv bad delimiter", importReq(t, "/api/v1/import/csv?measurement=m&delimiter=%3B%3B", "imports", "d.csv", []byte("time,a\n1,1\n")), 400, `{"error":"delimiter must be a single character, got \";;\""}`},
		{"no file part", req{path: "/api/v1/import/csv?measurement=m", header: map[string]string{"x-arc-database": "imports", "Content-Type": "text/csv"}, body: []byte("time,a\n1,1\n")}, 400,
			`{"error":"no file uploaded: use multipart/form-data with field name 'file'"}`},
		{"lp gzip, precision s", importReq(t, "/api/v1/import/lp?precision=s", "imports", "data.lp.gz", gzLP.Bytes()), 200,
			`{"result":{"database":"imports","measurements":["disk","mem"],"rows_imported":3,"precision":"s","duration_ms":X},"status":"ok"}`},
		{"lp rows", arcQuery("SELECT time, host, used FROM mem ORDER BY time", "x-arc-database", "imports"), 200,
			`{"success":true,"columns":["time","host","used"],"data":[["2021-01-01T00:00:00Z","a",1],["2021-01-01T00:01:00Z","b",2]],"row_count":2,"execution_time_ms":X,"timestamp":X}`},
		{"lp one measurement", importReq(t, "/api/v1/import/lp?measurement=disk&precision=s", "imports2", "data.lp", []byte("mem,host=a used=1 1609459200\ndisk,host=a free=3i 1609459200\n")), 200,
			`{"result":{"database":"imports2","measurements":["disk"],"rows_imported":1,"precision":"s","duration_ms":X},"status":"ok"}`},
		{"lp measurement absent", importReq(t, "/api/v1/import/lp?measurement=nope", "imports", "data.lp", []byte("mem,host=a used=1 1609459200\n")), 400, `{"error":"no records found for measurement \"nope\""}`},
		{"lp bad precision", importReq(t, "/api/v1/import/lp?precision=h", "imports", "data.lp", []byte("mem used=1\n")), 400, `{"error":"invalid precision \"h\": must be ns, us, ms, or s"}`},
		{"lp nothing valid", importReq(t, "/api/v1/import/lp", "imports", "data.lp", []byte("not line protocol\n")), 400, `{"error":"no valid line protocol records found in file"}`},
		{"parquet", importReq(t, "/api/v1/import/parquet?measurement=pq", "imports", "data.parquet", pq), 200,
			`{"result":{"database":"imports","measurement":"pq","rows_imported":2,"partitions_created":2,"time_range_min":"2021-01-01T00:00:00Z","time_range_max":"2021-01-01T01:00:00Z","columns":["time","host","v","n"],"duration_ms":X},"status":"ok"}`},
		{"parquet rows", arcQuery("SELECT time, host, v, n FROM pq ORDER BY time", "x-arc-database", "imports"), 200,
			`{"success":true,"columns":["time","host","v","n"],"data":[["2021-01-01T00:00:00Z","a",1.5,1],["2021-01-01T01:00:00Z","b",2.5,2]],"row_count":2,"execution_time_ms":X,"timestamp":X}`},
		{"not parquet", importReq(t, "/api/v1/import/parquet?measurement=pq", "imports", "data.parquet", []byte("PAR1 nothing")), 422, ""},
		{"stats", req{method: "GET", path: "/api/v1/import/stats"}, 200, `{"stats":{"total_errors":13,"total_records":10,"total_requests":18},"status":"success"}`},
		// DECIMAL columns (DuckDB writes i * 0.5 - 3 as DECIMAL(22,1); arcli's
		// harness imports such a file). Real Arc (6de7a983,
		// import_inprocess.go) converts every DECIMAL to a DOUBLE column with
		// arrow-go's Decimal128.ToFloat64, scale 0 included, and that is not
		// correctly rounded: this file's rows come back from Arc as
		// [-3,5,0.1] and [21.5,-7,2.125] (typeof DOUBLE for all three), and
		// 12.45 as DECIMAL(4,2) comes back as 12.450000000000001,
		// 0.123456789012345678 as 0.12345678901234569. tsgate never
		// approximates: a DECIMAL with a fraction becomes a float field when
		// every value converts exactly (its shortest float64 text is the
		// same number), a DECIMAL of scale 0 an integer field when every
		// value fits int64; anything else refuses the whole file, naming the
		// column, row and value, with nothing stored.
		{"parquet decimals", importReq(t, "/api/v1/import/parquet?measurement=dec", "imports", "dec.parquet", parquetOf(t, `SELECT * FROM (VALUES
			(TIMESTAMPTZ '2021-01-01 00:00:00+00', 'a', (-3.0)::DECIMAL(22,1), 5::DECIMAL(18,0), 0.1::DECIMAL(18,3), 12.45::DECIMAL(4,2)),
			(TIMESTAMPTZ '2021-01-01 01:00:00+00', 'b', 21.5::DECIMAL(22,1), (-7)::DECIMAL(18,0), 2.125::DECIMAL(18,3), NULL::DECIMAL(4,2)))
			AS t(time, station, temp, n, f, small)`)), 200,
			`{"result":{"database":"imports","measurement":"dec","rows_imported":2,"partitions_created":2,"time_range_min":"2021-01-01T00:00:00Z","time_range_max":"2021-01-01T01:00:00Z","columns":["time","station","temp","n","f","small"],"duration_ms":X},"status":"ok"}`},
		{"parquet decimals stored as float and integer fields", arcQuery("SELECT time, station, temp, n, f, small, typeof(temp) AS tt, typeof(n) AS nt FROM dec ORDER BY time", "x-arc-database", "imports"), 200,
			`{"success":true,"columns":["time","station","temp","n","f","small","tt","nt"],"data":[["2021-01-01T00:00:00Z","a",-3,5,0.1,12.45,"DOUBLE","BIGINT"],["2021-01-01T01:00:00Z","b",21.5,-7,2.125,null,"DOUBLE","BIGINT"]],"row_count":2,"execution_time_ms":X,"timestamp":X}`},
		// The refused value is in the last of 10,001 rows, past the first
		// batch the writer would have flushed.
		{"parquet decimal that is not a float64", importReq(t, "/api/v1/import/parquet?measurement=decbad", "imports", "bad.parquet", parquetOf(t, `SELECT TIMESTAMPTZ '2021-01-01 00:00:00+00' + i * INTERVAL 1 SECOND AS time,
			CASE WHEN i = 10000 THEN 0.123456789012345678 ELSE i * 0.5 END::DECIMAL(38,18) AS precise FROM range(10001) r(i)`)), 400,
			`{"error":"parquet column \"precise\" (DECIMAL(38,18)), row 10001: 0.123456789012345678 is not exactly a float64 (the nearest is 0.12345678901234568); tsgate imports a DECIMAL with a fraction as a float field only when each value converts exactly"}`},
		{"parquet decimal beyond int64", importReq(t, "/api/v1/import/parquet?measurement=decbad", "imports", "big.parquet", parquetOf(t, `SELECT * FROM (VALUES
			(TIMESTAMPTZ '2021-01-01 00:00:00+00', 3::DECIMAL(38,0)), (TIMESTAMPTZ '2021-01-01 01:00:00+00', 100000000000000000000::DECIMAL(38,0))) AS t(time, big)`)), 400,
			`{"error":"parquet column \"big\" (DECIMAL(38,0)), row 2: 100000000000000000000 does not fit a 64-bit integer; tsgate imports a DECIMAL of scale 0 as an integer field"}`},
		{"refused parquet files stored nothing: no such measurement", arcQuery("SELECT count(*) AS n FROM decbad", "x-arc-database", "imports"), 200,
			`{"success":true,"columns":[],"data":[],"row_count":0,"execution_time_ms":X,"timestamp":X}`},
		{"parquet of another type still refused", importReq(t, "/api/v1/import/parquet?measurement=decbad", "imports", "iv.parquet", parquetOf(t, `SELECT TIMESTAMPTZ '2021-01-01 00:00:00+00' AS time, INTERVAL 1 DAY AS d`)), 422,
			`{"error":"unsupported parquet column \"d\": type INTERVAL"}`},
		{"import needs admin", req{path: "/api/v1/import/csv", header: map[string]string{"Authorization": "Bearer nope-nope-nope-nope"}}, 401, `{"error":"Invalid or expired token","success":false}`},
	}
	stepCheck{norm: normalizeManage, partial: map[int]func(*testing.T, string){
		422: func(t *testing.T, body string) {
			if !strings.HasPrefix(body, `{"error":"failed to read parquet file: `) {
				t.Errorf("body %s", body)
			}
		},
	}}.run(t, ts, steps)
}

// parquetFile writes a small Parquet file with DuckDB (a writer outside
// tsgate's engines) and returns its bytes.
func parquetFile(t *testing.T) []byte {
	return parquetOf(t, `SELECT * FROM (VALUES
		(TIMESTAMPTZ '2021-01-01 00:00:00+00', 'a', 1.5::DOUBLE, 1::BIGINT),
		(TIMESTAMPTZ '2021-01-01 01:00:00+00', 'b', 2.5::DOUBLE, 2::BIGINT)) AS t(time, host, v, n)`)
}

// parquetOf writes the result of query (DuckDB SQL) as a Parquet file and
// returns its bytes.
func parquetOf(t *testing.T, query string) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data.parquet")
	c, err := duckdb.NewConnector("", nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	_, err = db.ExecContext(context.Background(), `COPY (`+query+`) TO '`+path+`' (FORMAT parquet)`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
