package pgwire

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"

	"tsgate/auth"
	"tsgate/errs"
	"tsgate/model"
)

func TestSplitStatements(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"SELECT 1; SELECT 2", []string{"SELECT 1", "SELECT 2"}},
		{"SELECT ';'; SELECT $$;$$ ;", []string{"SELECT ';'", "SELECT $$;$$"}},
		{"SELECT 1 -- ; comment\n; /* ; /* nested ; */ */ SELECT 2", []string{"SELECT 1 -- ; comment", "/* ; /* nested ; */ */ SELECT 2"}},
		{`SELECT "a;b" FROM t`, []string{`SELECT "a;b" FROM t`}},
		{";;  ; -- only a comment", nil},
		{"SELECT E'\\';'; SELECT 2", []string{"SELECT E'\\';'", "SELECT 2"}},
		{"SELECT $tag$ a;$ b $tag$", []string{"SELECT $tag$ a;$ b $tag$"}},
	} {
		got := splitStatements(c.in)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("split(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestBindParams(t *testing.T) {
	q := "SELECT * FROM t WHERE a = $1 AND b = '$1' AND c > $2 AND d = $3 -- $1\n AND e = $4 AND f = $5"
	got, err := bindParams(q, []uint32{25, 20, 16, 701, 1184}, nil,
		[][]byte{[]byte("it's"), []byte("-5"), []byte("yes"), nil, []byte("2025-11-26 00:00:00+00")})
	if err != nil {
		t.Fatal(err)
	}
	want := "SELECT * FROM t WHERE a = 'it''s' AND b = '$1' AND c > (-5) AND d = TRUE -- $1\n AND e = NULL AND f = '2025-11-26 00:00:00+00'::timestamptz"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// Binary int4 and float8.
	b4 := binary.BigEndian.AppendUint32(nil, uint32(42))
	got, err = bindParams("SELECT $1, $2", []uint32{23, 701}, []int16{1, 1}, [][]byte{b4, binary.BigEndian.AppendUint64(nil, 0x3ff8000000000000)})
	if err != nil || got != "SELECT 42, 1.5" {
		t.Errorf("binary: %q %v", got, err)
	}
	for _, bad := range []struct {
		oid uint32
		v   string
	}{{20, "1; DROP TABLE x"}, {701, "1e"}, {16, "maybe"}, {25, "a\x00b"}} {
		if _, err := bindParams("SELECT $1", []uint32{bad.oid}, nil, [][]byte{[]byte(bad.v)}); err == nil {
			t.Errorf("oid %d value %q accepted", bad.oid, bad.v)
		}
	}
	if _, err := bindParams("SELECT $2", []uint32{25}, nil, [][]byte{[]byte("x")}); errs.As(err).State() != "42P02" {
		t.Errorf("missing parameter: %v", err)
	}
}

func TestInferParamTypes(t *testing.T) {
	got := inferParamTypes("SELECT $1::int8, $2 LIMIT $3 OFFSET $4", []uint32{0, 700})
	defaultParamTypes(got)
	if len(got) != 4 || got[0] != 20 || got[1] != 700 || got[2] != 20 || got[3] != 20 {
		t.Errorf("types %v", got)
	}
}

func TestAppendFloat(t *testing.T) {
	for f, want := range map[float64]string{1.5: "1.5", 100: "100", 1234567: "1234567", 1e20: "1e+20", 1.5e-7: "1.5e-07", 0.1: "0.1", 0: "0"} {
		if got := string(appendFloat(nil, f, 64)); got != want {
			t.Errorf("%v: %q want %q", f, got, want)
		}
	}
}

// fakeExec answers every query with two rows, or an error for "boom".
type fakeExec struct{}

func (fakeExec) Query(_ context.Context, _, sql string) (model.Rows, error) {
	if strings.Contains(sql, "boom") {
		return nil, errs.New(errs.Invalid, "boom")
	}
	return &model.SliceRows{
		Cols: []model.ResultColumn{{Name: "i", Type: model.TypeInt, BackendType: "BIGINT"}, {Name: "s", Type: model.TypeString, BackendType: "VARCHAR"},
			{Name: "t", Type: model.TypeTime, BackendType: "TIMESTAMPTZ"}, {Name: "f", Type: model.TypeFloat, BackendType: "DOUBLE"}, {Name: "n", Type: model.TypeText, BackendType: "DECIMAL(10,2)"}},
		Data: [][]model.Value{{model.Int(1), model.String("x"), model.Time(1764115200000000), model.Float(2.5), {Type: model.TypeText, S: "1.50"}}, {{}, {}, {}, {}, {}}},
	}, nil
}

// serveBytes feeds raw client bytes to one server-side session and
// reports whether the session ended (it must, once the client hangs up).
func serveBytes(t testing.TB, cfg Config, input []byte) {
	s := New(fakeExec{}, cfg)
	client, server := net.Pipe()
	done := make(chan struct{})
	go func() {
		newConn(s, server).serve()
		close(done)
	}()
	go io.Copy(io.Discard, client)
	client.SetWriteDeadline(time.Now().Add(2 * time.Second))
	client.Write(input)
	client.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("session did not end for input %q", input)
	}
}

func startupBytes(params map[string]string) []byte {
	b, _ := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: params}).Encode(nil)
	return b
}

// FuzzStartup throws arbitrary first packets (startup, SSLRequest,
// GSSENCRequest, CancelRequest, garbage) at the startup and SCRAM path.
func FuzzStartup(f *testing.F) {
	f.Add(startupBytes(map[string]string{"user": "u", "database": "d"}))
	ssl, _ := (&pgproto3.SSLRequest{}).Encode(nil)
	gss, _ := (&pgproto3.GSSEncRequest{}).Encode(nil)
	cancel, _ := (&pgproto3.CancelRequest{ProcessID: 1, SecretKey: []byte{1, 2, 3, 4}}).Encode(nil)
	f.Add(append(ssl, startupBytes(map[string]string{"user": "u"})...))
	f.Add(append(gss, startupBytes(map[string]string{"user": "u", "_pq_.x": "1", "client_encoding": "LATIN1"})...))
	f.Add(cancel)
	sasl, _ := (&pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: []byte("n,,n=,r=abc")}).Encode(nil)
	f.Add(append(startupBytes(map[string]string{"user": "u"}), sasl...))
	f.Add([]byte{0, 0, 0, 8, 0, 3, 0, 0})
	ta := testTokenAuth(f, "token-0123456789abcdef")
	f.Fuzz(func(t *testing.T, in []byte) {
		serveBytes(t, Config{Auth: ta}, in)
	})
}

// FuzzMessages logs in (no auth) and then sends arbitrary frontend
// messages: the decoder, the extended-protocol state machine, the session
// commands and the parameter binder all see them.
func FuzzMessages(f *testing.F) {
	login := startupBytes(map[string]string{"user": "u", "database": "d"})
	enc := func(msgs ...pgproto3.FrontendMessage) []byte {
		var b []byte
		for _, m := range msgs {
			b, _ = m.Encode(b)
		}
		return b
	}
	f.Add(enc(&pgproto3.Query{String: "SELECT 1; SET x = 1; SHOW x; BEGIN; SELECT boom; ROLLBACK"}))
	f.Add(enc(&pgproto3.Parse{Name: "s", Query: "SELECT $1::int, $2"}, &pgproto3.Describe{ObjectType: 'S', Name: "s"},
		&pgproto3.Bind{PreparedStatement: "s", ParameterFormatCodes: []int16{1, 0}, Parameters: [][]byte{{0, 0, 0, 1}, []byte("x")}, ResultFormatCodes: []int16{1}},
		&pgproto3.Execute{MaxRows: 1}, &pgproto3.Execute{}, &pgproto3.Sync{}))
	f.Add(enc(&pgproto3.Query{String: "BEGIN; DECLARE c CURSOR FOR SELECT 1; FETCH 1 FROM c; CLOSE c; COMMIT"}, &pgproto3.Terminate{}))
	f.Add(enc(&pgproto3.Parse{Query: "SELECT boom"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Flush{}, &pgproto3.Sync{}, &pgproto3.Close{ObjectType: 'P'}))
	f.Add([]byte("Q\x00\x00\x00\x04"))
	f.Fuzz(func(t *testing.T, in []byte) {
		serveBytes(t, Config{}, append(login[:len(login):len(login)], in...))
	})
}

// FuzzSQLText checks the lexer-based helpers on arbitrary text: no
// panics, and binding never leaves a $n behind or reorders the text
// around it.
func FuzzSQLText(f *testing.F) {
	for _, s := range []string{"SELECT $1", "SELECT '$1', $2 -- $3", "SET x TO 'a', b", "$$", "E'\\", "/* /* */", "DECLARE c CURSOR WITH HOLD FOR SELECT 1", "FETCH ALL"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		splitStatements(q)
		n := paramCount(q)
		if n > 100 {
			return
		}
		vals := make([][]byte, n)
		for i := range vals {
			vals[i] = []byte("v")
		}
		out, err := bindParams(q, inferParamTypes(q, nil), nil, vals)
		if err == nil && n > 0 && paramCount(out) != 0 {
			t.Fatalf("bound %q still has parameters: %q", q, out)
		}
	})
}

// TestDataRowAllocs: encoding rows costs no allocation per row; the
// buffer is reused (the rows' own values are the executor's business).
func TestDataRowAllocs(t *testing.T) {
	s := New(fakeExec{}, Config{})
	c := newConn(s, nil)
	c.bw = bufio.NewWriterSize(io.Discard, flushThreshold)
	c.be = pgproto3.NewBackend(strings.NewReader(""), c.bw)
	rows, _ := fakeExec{}.Query(context.Background(), "", "")
	for _, format := range []int16{0, 1} {
		if _, err := c.setColumns(rows.Columns(), []int16{format}, false); err != nil {
			t.Fatal(err)
		}
		data := make([][]model.Value, 1000)
		for i := range data {
			data[i] = rows.(*model.SliceRows).Data[i%2]
		}
		var src model.SliceRows
		allocs := testing.AllocsPerRun(20, func() {
			src = model.SliceRows{Cols: rows.Columns(), Data: data}
			if _, _, err := c.stream(&src, 0); err != nil {
				t.Fatal(err)
			}
			c.flush()
		})
		if allocs > 1 {
			t.Errorf("format %d: %.0f allocations for 1000 rows", format, allocs)
		}
	}
}

func TestNumericBinary(t *testing.T) {
	for _, in := range []string{"123.4500", "-0.001", "0", "0.00", "100000000", "18446744073709551615", ".5", "-98765.4321", "1.50"} {
		b, ok := appendNumeric(nil, []byte(in))
		if !ok {
			t.Fatalf("%s: not encoded", in)
		}
		var n pgtype.Numeric
		if err := (pgtype.NumericCodec{}).PlanScan(nil, pgtype.NumericOID, pgtype.BinaryFormatCode, &n).Scan(b, &n); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		want := new(big.Rat)
		want.SetString(in)
		got := new(big.Rat).SetInt(n.Int)
		if n.Exp > 0 {
			got.Mul(got, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n.Exp)), nil)))
		} else if n.Exp < 0 {
			got.Quo(got, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-n.Exp)), nil)))
		}
		if got.Cmp(want) != 0 {
			t.Errorf("%s: decoded %s", in, got.FloatString(6))
		}
	}
	if _, ok := appendNumeric(nil, []byte("1e5")); ok {
		t.Error("exponent form accepted")
	}
}

// testTokenAuth is a TokenAuth over a fresh token store holding secret.
func testTokenAuth(t testing.TB, secret string) *TokenAuth {
	t.Helper()
	st, err := auth.Open(filepath.Join(t.TempDir(), "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Create("test", secret, []auth.Permission{auth.Read}); err != nil {
		t.Fatal(err)
	}
	a, err := NewTokenAuth(st)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
