package gateway

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgproto3"
)

// writeBig adds 3000 rows, enough for a three-way join that runs for
// minutes unless canceled.
func writeBig(t *testing.T, s *pgServer) {
	t.Helper()
	var sb strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&sb, "big,k=%d v=%di %d\n", i%7, i, 1764115200+i)
	}
	s.writeSec(t, "tsdb", sb.String())
}

const slowQuery = "SELECT count(*) FROM big a, big b, big c WHERE a.v + b.v + c.v > 0"

func TestPGWireCancel(t *testing.T) { forEachPGBackend(t, testPGWireCancel) }

func testPGWireCancel(t *testing.T, backend func(*Config)) {
	s := startPG(t, backend)
	writeBig(t, s)
	// pgx only drops the socket on a context's end unless told to send
	// PostgreSQL's CancelRequest, which is what this test is about.
	c := pgConnectWith(t, s.url("tsdb"), func(cfg *pgx.ConnConfig) {
		cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
			return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: 5 * time.Second}
		}
	})
	// 2.7e10 joined rows: minutes of work unless the cancel reaches the
	// backend.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	var n int64
	err := c.QueryRow(ctx, slowQuery).Scan(&n)
	took := time.Since(start)
	var pe *pgconn.PgError
	if err == nil {
		t.Fatalf("query finished (%d) instead of being canceled", n)
	}
	if !errors.As(err, &pe) || pe.Code != "57014" {
		t.Errorf("cancel error %v, want SQLSTATE 57014", err)
	}
	if took > 5*time.Second {
		t.Errorf("cancel took %v", took)
	}
	// The session is usable afterwards (pgx closes a connection whose
	// context expired, so use a fresh one) and the backend is idle again.
	c2 := pgConnect(t, s.url("tsdb"))
	start = time.Now()
	if err := c2.QueryRow(context.Background(), "SELECT count(*) FROM big").Scan(&n); err != nil || n != 3000 {
		t.Fatalf("after cancel: %v %d", err, n)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("backend still busy after cancel")
	}
	if backend != nil {
		// A real PostgreSQL behind the gateway: the cancel must have
		// reached it, not just the client (the server would otherwise
		// grind through the join for minutes).
		admin := pgConnect(t, os.Getenv("TSGATE_TEST_POSTGRES_URL"))
		var active int
		for range 50 {
			if err := admin.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%big AS a%big AS b%' AND pid <> pg_backend_pid()`).Scan(&active); err != nil {
				t.Fatal(err)
			}
			if active == 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if active != 0 {
			t.Errorf("the join still runs on PostgreSQL after the cancel")
		}
	}
}

func TestPGWireSessionCommands(t *testing.T) {
	s := startPG(t, nil)
	ctx := context.Background()
	c := pgConnect(t, s.url("tsdb"))
	q := func(sql string) string {
		t.Helper()
		var v string
		if err := c.QueryRow(ctx, sql, pgx.QueryExecModeSimpleProtocol).Scan(&v); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return v
	}
	exec := func(sql string) string {
		t.Helper()
		tag, err := c.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return tag.String()
	}
	if v := q("SHOW transaction_isolation"); v != "read committed" {
		t.Errorf("transaction_isolation %q", v)
	}
	if tag := exec("SET extra_float_digits = 3"); tag != "SET" {
		t.Errorf("tag %q", tag)
	}
	if v := q("SHOW extra_float_digits"); v != "3" {
		t.Errorf("extra_float_digits %q", v)
	}
	exec("SET application_name TO 'dbeaver'")
	if v := q("SELECT current_setting('application_name')"); v != "dbeaver" {
		t.Errorf("application_name %q", v)
	}
	if c.PgConn().ParameterStatus("application_name") != "dbeaver" {
		t.Errorf("ParameterStatus application_name = %q", c.PgConn().ParameterStatus("application_name"))
	}
	exec("SET some_unknown.setting = 42")
	exec("SET my_unknown_setting = 'x'")
	if v := q("SHOW my_unknown_setting"); v != "x" {
		t.Errorf("unknown setting %q", v)
	}
	exec("RESET extra_float_digits")
	if v := q("SHOW extra_float_digits"); v != "1" {
		t.Errorf("after RESET %q", v)
	}
	if v := q("SELECT version()"); !strings.HasPrefix(v, "PostgreSQL 15") {
		t.Errorf("version %q", v)
	}
	if v := q("SELECT current_database()"); v != "tsdb" {
		t.Errorf("current_database %q", v)
	}
	exec("UNLISTEN *")
	// Transaction status: BEGIN → T, an error → E (everything refused
	// until ROLLBACK), ROLLBACK → I.
	exec("BEGIN")
	if st := c.PgConn().TxStatus(); st != 'T' {
		t.Errorf("after BEGIN: %c", st)
	}
	_, err := c.Exec(ctx, "SELECT nosuchcol FROM cpu", pgx.QueryExecModeSimpleProtocol)
	if err == nil || c.PgConn().TxStatus() != 'E' {
		t.Errorf("after error in block: %v %c", err, c.PgConn().TxStatus())
	}
	_, err = c.Exec(ctx, "SELECT 1", pgx.QueryExecModeSimpleProtocol)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "25P02" {
		t.Errorf("in failed block: %v", err)
	}
	if tag := exec("COMMIT"); tag != "ROLLBACK" {
		t.Errorf("COMMIT of failed block: %q", tag)
	}
	if st := c.PgConn().TxStatus(); st != 'I' {
		t.Errorf("after COMMIT: %c", st)
	}
	// Cursors: DECLARE needs a block unless WITH HOLD; FETCH reads forward.
	if _, err := c.Exec(ctx, "DECLARE c1 CURSOR FOR SELECT host FROM cpu", pgx.QueryExecModeSimpleProtocol); err == nil {
		t.Error("DECLARE outside a block should fail")
	}
	exec("BEGIN")
	if tag := exec("DECLARE c1 CURSOR FOR SELECT host FROM cpu ORDER BY time"); tag != "DECLARE CURSOR" {
		t.Errorf("declare tag %q", tag)
	}
	rows, _ := c.Query(ctx, "FETCH 2 FROM c1", pgx.QueryExecModeSimpleProtocol)
	hosts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || strings.Join(hosts, ",") != "a,b" || rows.CommandTag().String() != "FETCH 2" {
		t.Errorf("fetch 2: %v %v %q", err, hosts, rows.CommandTag())
	}
	rows, _ = c.Query(ctx, "FETCH ALL IN c1", pgx.QueryExecModeSimpleProtocol)
	hosts, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || strings.Join(hosts, ",") != "a" {
		t.Errorf("fetch all: %v %v", err, hosts)
	}
	exec("CLOSE c1")
	exec("COMMIT")
	exec("DECLARE h CURSOR WITH HOLD FOR SELECT count(*) FROM cpu")
	if v := q("FETCH NEXT FROM h"); v != "3" {
		t.Errorf("hold cursor %q", v)
	}
	exec("CLOSE h")
	if tag := exec("DISCARD ALL"); tag != "DISCARD ALL" {
		t.Errorf("discard tag %q", tag)
	}
}

// TestPGWireExtendedEdges drives the extended protocol below the driver:
// unnamed and named statements, Execute with a row limit (PortalSuspended),
// and skip-until-Sync after an error.
func TestPGWireExtendedEdges(t *testing.T) {
	s := startPG(t, nil)
	ctx := context.Background()
	c := pgConnect(t, s.url("tsdb"))
	pc := c.PgConn()
	sd, err := pc.Prepare(ctx, "byhost", "SELECT usage FROM cpu WHERE host = $1 ORDER BY time", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.ParamOIDs) != 1 || sd.ParamOIDs[0] != 25 || len(sd.Fields) != 1 || sd.Fields[0].DataTypeOID != 701 {
		t.Fatalf("describe: %+v %+v", sd.ParamOIDs, sd.Fields)
	}
	res := pc.ExecPrepared(ctx, "byhost", [][]byte{[]byte("a")}, nil, []int16{1}).Read()
	if res.Err != nil || len(res.Rows) != 2 || len(res.Rows[0][0]) != 8 {
		t.Fatalf("binary result: %v %v", res.Err, res.Rows)
	}
	// Row limit and skip-until-Sync, below the driver.
	hj, err := pc.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	defer hj.Conn.Close()
	fe := hj.Frontend
	hj.Conn.SetDeadline(time.Now().Add(10 * time.Second))
	var got []string
	recvUntilReady := func() {
		t.Helper()
		for {
			m, err := fe.Receive()
			if err != nil {
				t.Fatal(err)
			}
			switch m := m.(type) {
			case *pgproto3.DataRow:
				got = append(got, "D:"+string(m.Values[0]))
			case *pgproto3.ErrorResponse:
				got = append(got, "E:"+m.Code)
			case *pgproto3.CommandComplete:
				got = append(got, "C:"+string(m.CommandTag))
			case *pgproto3.ReadyForQuery:
				got = append(got, "Z:"+string(m.TxStatus))
				return
			default:
				got = append(got, fmt.Sprintf("%T", m)[len("*pgproto3."):])
			}
		}
	}
	fe.Send(&pgproto3.Parse{Query: "SELECT host FROM cpu ORDER BY time"})
	fe.Send(&pgproto3.Bind{})
	fe.Send(&pgproto3.Execute{MaxRows: 2})
	fe.Send(&pgproto3.Execute{MaxRows: 2})
	fe.Send(&pgproto3.Sync{})
	// After an error every message up to Sync is skipped.
	fe.Send(&pgproto3.Parse{Name: "bad", Query: "SELECT nosuchcol FROM cpu"})
	fe.Send(&pgproto3.Bind{PreparedStatement: "bad"})
	fe.Send(&pgproto3.Describe{ObjectType: 'P'})
	fe.Send(&pgproto3.Execute{})
	fe.Send(&pgproto3.Sync{})
	fe.Send(&pgproto3.Parse{Name: "s2", Query: "SELECT count(*) FROM cpu WHERE host = $1"})
	fe.Send(&pgproto3.Describe{ObjectType: 'S', Name: "s2"})
	fe.Send(&pgproto3.Bind{PreparedStatement: "s2", DestinationPortal: "p2", Parameters: [][]byte{[]byte("b")}})
	fe.Send(&pgproto3.Execute{Portal: "p2"})
	fe.Send(&pgproto3.Close{ObjectType: 'S', Name: "s2"})
	fe.Send(&pgproto3.Sync{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	recvUntilReady()
	recvUntilReady()
	recvUntilReady()
	want := "ParseComplete BindComplete D:a D:b PortalSuspended D:a C:SELECT 1 Z:I " +
		// The portal starts at Describe, so the error comes there; the
		// DuckDB store reports binder errors in class 42 (42000: DuckDB's
		// error type says binder, not which name was missing).
		"ParseComplete BindComplete E:42000 Z:I " +
		"ParseComplete ParameterDescription RowDescription BindComplete D:1 C:SELECT 1 CloseComplete Z:I"
	if strings.Join(got, " ") != want {
		t.Errorf("messages:\n%s\nwant:\n%s", strings.Join(got, " "), want)
	}
}

// TestPGWireTimeZone: a session whose TimeZone is not UTC connects, and
// its queries are refused, not answered in UTC. PostgreSQL would read
// and print timestamps in that zone; pgjdbc sends the JVM's zone at
// startup, so connecting must still work and SET TimeZone = 'UTC' must
// lift the refusal.
func TestPGWireTimeZone(t *testing.T) {
	s := startPG(t, nil)
	ctx := context.Background()
	connect := func(zone string) *pgx.Conn {
		t.Helper()
		return pgConnectWith(t, s.url("tsdb"), func(cfg *pgx.ConnConfig) { cfg.RuntimeParams["TimeZone"] = zone })
	}
	const q = "SELECT count(*) FROM cpu WHERE time >= '2025-11-26'"
	answers := func(c *pgx.Conn) error {
		var n int64
		err := c.QueryRow(ctx, q).Scan(&n)
		if err == nil && n != 3 {
			t.Errorf("%s: %d rows, want 3", q, n)
		}
		return err
	}
	refused := func(c *pgx.Conn, zone string) {
		t.Helper()
		err := answers(c)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "0A000" || !strings.Contains(pe.Message, `TimeZone "`+zone+`"`) || pe.Hint == "" {
			t.Fatalf("TimeZone %s: want 0A000 naming the zone, with a hint; got %v", zone, err)
		}
	}
	for _, zone := range []string{"UTC", "Etc/UTC", "GMT", "utc"} {
		if err := answers(connect(zone)); err != nil {
			t.Errorf("TimeZone %s: %v", zone, err)
		}
	}
	c := connect("Asia/Shanghai")
	var shown string
	if err := c.QueryRow(ctx, "SHOW TimeZone").Scan(&shown); err != nil || shown != "Asia/Shanghai" {
		t.Fatalf("SHOW TimeZone: %q %v", shown, err)
	}
	refused(c, "Asia/Shanghai")
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		var n int64
		var pe *pgconn.PgError
		if err := c.QueryRow(ctx, q, mode).Scan(&n); !errors.As(err, &pe) || pe.Code != "0A000" {
			t.Errorf("%s protocol: want 0A000, got %v", mode, err)
		}
	}
	if _, err := c.Exec(ctx, "SET TimeZone = 'UTC'"); err != nil {
		t.Fatal(err)
	}
	if err := answers(c); err != nil {
		t.Errorf("after SET TimeZone = 'UTC': %v", err)
	}
	if _, err := c.Exec(ctx, "SET TIME ZONE 'America/New_York'"); err != nil {
		t.Fatal(err)
	}
	refused(c, "America/New_York")
}
