package lineprotocol

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"tsgate/errs"
	bt "tsgate/internal/batchtest"
	"tsgate/model"
)

var (
	now   = time.Unix(1_700_000_000, 123_456_789)
	nowUS = now.UnixMicro()
	f     = model.Float
	i     = model.Int
	u     = model.Uint
	s     = model.String
	bo    = model.Bool
	null  = model.Value{}
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		prec Precision
		want bt.Batch
	}{
		{
			name: "types",
			in:   `cpu,host=a fl=1.5,in=-3i,un=7u,st="x y",b1=t,b2=F,b3=true,b4=True,b5=TRUE,b6=false,b7=False,b8=FALSE 1700000000000000000`,
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "cpu", Time: []int64{1_700_000_000_000_000},
				Columns: map[string]bt.Col{
					"host": bt.Tag(s("a")),
					"fl":   bt.Field(model.TypeFloat, f(1.5)),
					"in":   bt.Field(model.TypeInt, i(-3)),
					"un":   bt.Field(model.TypeUint, u(7)),
					"st":   bt.Field(model.TypeString, s("x y")),
					"b1":   bt.Field(model.TypeBool, bo(true)),
					"b2":   bt.Field(model.TypeBool, bo(false)),
					"b3":   bt.Field(model.TypeBool, bo(true)),
					"b4":   bt.Field(model.TypeBool, bo(true)),
					"b5":   bt.Field(model.TypeBool, bo(true)),
					"b6":   bt.Field(model.TypeBool, bo(false)),
					"b7":   bt.Field(model.TypeBool, bo(false)),
					"b8":   bt.Field(model.TypeBool, bo(false)),
				},
			}}},
		},
		{
			name: "integer extremes",
			in:   "m a=9223372036854775807i,b=-9223372036854775808i,c=18446744073709551615u,d=1e3 1",
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "m", Time: []int64{0},
				Columns: map[string]bt.Col{
					"a": bt.Field(model.TypeInt, i(math.MaxInt64)),
					"b": bt.Field(model.TypeInt, i(math.MinInt64)),
					"c": bt.Field(model.TypeUint, u(math.MaxUint64)),
					"d": bt.Field(model.TypeFloat, f(1000)),
				},
			}}},
		},
		{
			name: "escapes in measurement tags and keys",
			in:   `m,t\ k\,1\=x=v\ 1\,2\=3 f\ k\,\==1,s="a\"b\\c\,d" 5000`,
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "m", Time: []int64{5},
				Columns: map[string]bt.Col{
					"t k,1=x": bt.Tag(s("v 1,2=3")),
					"f k,=":   bt.Field(model.TypeFloat, f(1)),
					"s":       bt.Field(model.TypeString, s(`a"b\c,d`)),
				},
			}}},
		},
		{
			name: "unknown escape keeps its backslash",
			in:   `m,t=a\qb f="x\ty" 1000`,
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "m", Time: []int64{1},
				Columns: map[string]bt.Col{
					"t": bt.Tag(s(`a\qb`)),
					"f": bt.Field(model.TypeString, s(`x\ty`)),
				},
			}}},
		},
		{
			name: "quoted string with comma space and equals",
			in:   `m f="a, b=c",g=2 1000`,
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "m", Time: []int64{1},
				Columns: map[string]bt.Col{
					"f": bt.Field(model.TypeString, s("a, b=c")),
					"g": bt.Field(model.TypeFloat, f(2)),
				},
			}}},
		},
		{
			name: "comments blank lines CRLF and surrounding space",
			in:   "# a comment\r\n\r\n  m v=1 1000\r\n\n\t# another\nm v=2 2000\r\n",
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "m", Time: []int64{1, 2},
				Columns: map[string]bt.Col{"v": bt.Field(model.TypeFloat, f(1), f(2))},
			}}},
		},
		{
			name: "missing timestamp is now",
			in:   "m v=1",
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "m", Time: []int64{nowUS},
				Columns: map[string]bt.Col{"v": bt.Field(model.TypeFloat, f(1))},
			}}},
		},
		{
			name: "ns floors toward minus infinity",
			in:   "m v=1 -1\nm v=2 -1000\nm v=3 -1001\nm v=4 1999",
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "m", Time: []int64{-1, -1, -2, 1},
				Columns: map[string]bt.Col{"v": bt.Field(model.TypeFloat, f(1), f(2), f(3), f(4))},
			}}},
		},
		{
			name: "precision us", prec: Microsecond,
			in: "m v=1 1700000000000000",
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "m", Time: []int64{1_700_000_000_000_000},
				Columns: map[string]bt.Col{"v": bt.Field(model.TypeFloat, f(1))},
			}}},
		},
		{
			name: "precision ms", prec: Millisecond,
			in: "m v=1 1700000000000",
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "m", Time: []int64{1_700_000_000_000_000},
				Columns: map[string]bt.Col{"v": bt.Field(model.TypeFloat, f(1))},
			}}},
		},
		{
			name: "precision s", prec: Second,
			in: "m v=1 1700000000\nm v=2 -1",
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "m", Time: []int64{1_700_000_000_000_000, -1_000_000},
				Columns: map[string]bt.Col{"v": bt.Field(model.TypeFloat, f(1), f(2))},
			}}},
		},
		{
			name: "overflowing timestamp for precision is rejected", prec: Second,
			in: "m v=1 9223372036854775\nm v=2 1",
			want: bt.Batch{
				Tables: []bt.Table{{
					Measurement: "m", Time: []int64{1_000_000},
					Columns: map[string]bt.Col{"v": bt.Field(model.TypeFloat, f(2))},
				}},
				Dropped: 1,
				Errors:  []string{"line 1: timestamp 9223372036854775 out of range for precision s"},
			},
		},
		{
			name: "sparse fields and tags become NULLs",
			in:   "m,a=1 x=1 1000\nm,b=2 y=2i 2000\nm z=true 3000",
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "m", Time: []int64{1, 2, 3},
				Columns: map[string]bt.Col{
					"a": bt.Tag(s("1"), null, null),
					"x": bt.Field(model.TypeFloat, f(1), null, null),
					"b": bt.Tag(null, s("2"), null),
					"y": bt.Field(model.TypeInt, null, i(2), null),
					"z": bt.Field(model.TypeBool, null, null, bo(true)),
				},
			}}},
		},
		{
			name: "several measurements in first-seen order",
			in:   "b v=1 1000\na v=2 2000\nb v=3 3000",
			want: bt.Batch{Tables: []bt.Table{
				{Measurement: "b", Time: []int64{1, 3}, Columns: map[string]bt.Col{"v": bt.Field(model.TypeFloat, f(1), f(3))}},
				{Measurement: "a", Time: []int64{2}, Columns: map[string]bt.Col{"v": bt.Field(model.TypeFloat, f(2))}},
			}},
		},
		{
			name: "field named like a tag becomes name_value",
			in:   "m,host=a host=1,v=2 1000\nm host=3 2000",
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "m", Time: []int64{1, 2},
				Columns: map[string]bt.Col{
					"host":       bt.Tag(s("a"), null),
					"host_value": bt.Field(model.TypeFloat, f(1), f(3)),
					"v":          bt.Field(model.TypeFloat, f(2), null),
				},
			}}},
		},
		{
			name: "tag named like an earlier field is rejected",
			in:   "m host=1 1000\nm,host=a v=2 2000",
			want: bt.Batch{
				Tables: []bt.Table{{
					Measurement: "m", Time: []int64{1},
					Columns: map[string]bt.Col{"host": bt.Field(model.TypeFloat, f(1))},
				}},
				Dropped: 1,
				Errors:  []string{`line 2: tag key "host" on measurement "m" conflicts with a field of the same name`},
			},
		},
		{
			name: "duplicate keys: the last one wins",
			in:   "m,t=a,t=b v=1,v=2i,w=3 1000",
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "m", Time: []int64{1},
				Columns: map[string]bt.Col{
					"t": bt.Tag(s("b")),
					"v": bt.Field(model.TypeInt, i(2)),
					"w": bt.Field(model.TypeFloat, f(3)),
				},
			}}},
		},
		{
			name: "empty tag value is kept and empty components are skipped",
			in:   "m,t=,,u=x v=1 1000",
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "m", Time: []int64{1},
				Columns: map[string]bt.Col{
					"t": bt.Tag(s("")),
					"u": bt.Tag(s("x")),
					"v": bt.Field(model.TypeFloat, f(1)),
				},
			}}},
		},
		{
			name: "NaN and Inf are floats, bare words are strings",
			in:   "m a=NaN,b=+Inf,c=-inf,d=hello,e=12x 1000",
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "m", Time: []int64{1},
				Columns: map[string]bt.Col{
					"a": bt.Field(model.TypeFloat, f(math.NaN())),
					"b": bt.Field(model.TypeFloat, f(math.Inf(1))),
					"c": bt.Field(model.TypeFloat, f(math.Inf(-1))),
					"d": bt.Field(model.TypeString, s("hello")),
					"e": bt.Field(model.TypeString, s("12x")),
				},
			}}},
		},
		{
			name: "repeated spaces between sections",
			in:   "m,t=a  v=1   1000",
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "m", Time: []int64{1},
				Columns: map[string]bt.Col{"t": bt.Tag(s("a")), "v": bt.Field(model.TypeFloat, f(1))},
			}}},
		},
		{
			name: "a type conflict with an earlier line is kept in a variant column",
			in:   "m v=1 1000\nm v=2i 2000\nm v=3 3000",
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "m", Time: []int64{1, 2, 3},
				Columns: map[string]bt.Col{
					"v":         bt.Field(model.TypeFloat, f(1), null, f(3)),
					"v/integer": bt.Field(model.TypeInt, null, i(2), null),
				},
			}}},
		},
		{
			name: "invalid UTF-8 is replaced per byte",
			in:   "m,t=a\xffb v=\"x\xfe\xfdy\" 1000",
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "m", Time: []int64{1},
				Columns: map[string]bt.Col{
					"t": bt.Tag(s("a\uFFFDb")),
					"v": bt.Field(model.TypeString, s("x\uFFFD\uFFFDy")),
				},
			}}},
		},
		{
			name: "malformed lines are dropped one by one",
			in: "m v=1 1000\n" +
				"m\n" + // 2: no fields
				"m,t=a\n" + // 3
				"m,t v=1\n" + // 4: tag without =
				"m,=a v=1\n" + // 5
				"m v=1 abc\n" + // 6
				"m v=1 1 2\n" + // 7
				"m v=\n" + // 8
				"m v=1,\n" + // 9
				"m v\n" + // 10
				"m =1\n" + // 11
				"m v=\"abc\n" + // 12
				"m v=1x2i\n" + // 13
				"m v=-1u\n" + // 14
				"m v=1e999\n" + // 15
				"m time=1\n" + // 16
				"m,time=a v=1\n" + // 17
				",t=a v=1\n" + // 18
				"m v=\"a\"b\n" + // 19
				"m v=99999999999999999999i\n" + // 20
				"m v=2 2000",
			want: bt.Batch{
				Tables: []bt.Table{{
					Measurement: "m", Time: []int64{1, 2},
					Columns: map[string]bt.Col{"v": bt.Field(model.TypeFloat, f(1), f(2))},
				}},
				Dropped: 19,
				Errors: []string{
					"line 2: missing fields",
					"line 3: missing fields",
					`line 4: invalid tag "t": want key=value`,
					`line 5: invalid tag "=a": want key=value`,
					`line 6: invalid timestamp "abc"`,
					`line 7: unexpected data after timestamp: "1 2"`,
					`line 8: invalid value "" for field "v": missing value`,
					`line 9: trailing comma after field "v"`,
					`line 10: invalid field "v": want key=value`,
					"line 11: missing field key",
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b model.Batch
			if err := Parse([]byte(tt.in), tt.prec, now, &b); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, bt.View(t, &b), cmpopts.EquateNaNs()); diff != "" {
				t.Errorf("batch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRejectReasons checks the messages of the rejections TestParse
// cannot show (Batch keeps only the first ten).
func TestRejectReasons(t *testing.T) {
	tests := []struct{ in, want string }{
		{"m v=\"abc", `line 1: unterminated string in field "v"`},
		{"m v=1x2i", `line 1: invalid value "1x2i" for field "v": not a valid integer`},
		{"m v=-1u", `line 1: invalid value "-1u" for field "v": not a valid unsigned integer`},
		{"m v=1e999", `line 1: invalid value "1e999" for field "v": number out of range`},
		{"m time=1", `line 1: field key "time" is reserved for the timestamp`},
		{"m,time=a v=1", `line 1: tag key "time" is reserved for the timestamp`},
		{",t=a v=1", "line 1: missing measurement"},
		{"m v=\"a\"b", `line 1: unterminated string in field "v"`},
		{"m v=99999999999999999999i", `line 1: invalid value "99999999999999999999i" for field "v": not a valid integer`},
		{"m,host=a,host_value=b host=1", `line 1: field "host_value" on measurement "m" conflicts with a tag of the same name`},
		{"m a b=1", `line 1: invalid field "a": want key=value`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var b model.Batch
			err := Parse([]byte(tt.in+"\nok v=1"), Nanosecond, now, &b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got := bt.View(t, &b)
			if diff := cmp.Diff([]string{tt.want}, got.Errors); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if len(got.Tables) != 1 || got.Tables[0].Measurement != "ok" {
				t.Errorf("tables: %+v, want only ok (a rejected line leaves no table)", got.Tables)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     *errs.Error
	}{
		{"empty body", "", errs.New(errs.Invalid, "Empty request body")},
		{"only comments", "# x\n\n", errs.New(errs.Invalid, "No valid records in request")},
		{"only bad lines", "m\nm v=\n", errs.New(errs.Invalid, "No valid records in request")},
		{"all conflicting after rejects", "m v=\"x\n", errs.New(errs.Invalid, "No valid records in request")},
		{"invalid measurement", "ok v=1\n1cpu v=1\n", errs.New(errs.Invalid, `invalid measurement name "1cpu": must start with a letter and contain only alphanumeric characters, underscores, or hyphens`)},
		{"escaped measurement", `cpu\ load v=1`, errs.New(errs.Invalid, `invalid measurement name "cpu load": must start with a letter and contain only alphanumeric characters, underscores, or hyphens`)},
		{"measurement dot", `cpu.load v=1`, errs.New(errs.Invalid, `invalid measurement name "cpu.load": must start with a letter and contain only alphanumeric characters, underscores, or hyphens`)},
		{"measurement too long", "a" + string(make([]byte, 0)) + repeat("b", 128) + " v=1", errs.New(errs.Invalid, `invalid measurement name "a`+repeat("b", 128)+`": must start with a letter and contain only alphanumeric characters, underscores, or hyphens`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b model.Batch
			err := Parse([]byte(tt.in), Nanosecond, now, &b)
			var got *errs.Error
			if !errors.As(err, &got) {
				t.Fatalf("error %v (%T) is not *errs.Error", err, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(errs.Error{}, "Err")); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

func TestMeasurementLength(t *testing.T) {
	var b model.Batch
	name := "a" + repeat("b", 127)
	if err := Parse([]byte(name+" v=1"), Nanosecond, now, &b); err != nil {
		t.Fatalf("128-char name: %v", err)
	}
}

func TestParsePrecision(t *testing.T) {
	for in, want := range map[string]Precision{"": Nanosecond, "ns": Nanosecond, "us": Microsecond, "ms": Millisecond, "s": Second} {
		got, err := ParsePrecision(in)
		if err != nil || got != want {
			t.Errorf("ParsePrecision(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"h", "NS", "m", "u"} {
		_, err := ParsePrecision(in)
		want := errs.Newf(errs.Invalid, `invalid precision %q: must be ns, us, ms, or s`, in)
		var got *errs.Error
		if !errors.As(err, &got) {
			t.Fatalf("ParsePrecision(%q) error %v is not *errs.Error", in, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ParsePrecision(%q) (-want +got):\n%s", in, diff)
		}
	}
	if _, err := ParsePrecision("h"); err.Error() != `invalid precision "h": must be ns, us, ms, or s` {
		t.Errorf("message %q", err.Error())
	}
}

// TestRejectLimit: Batch keeps ten reasons but counts every drop.
func TestRejectLimit(t *testing.T) {
	var b model.Batch
	in := repeat("m\n", 25) + "m v=1"
	if err := Parse([]byte(in), Nanosecond, now, &b); err != nil {
		t.Fatal(err)
	}
	if b.Dropped != 25 || len(b.Errors) != 10 || b.Rows() != 1 {
		t.Errorf("dropped %d, errors %d, rows %d", b.Dropped, len(b.Errors), b.Rows())
	}
}
