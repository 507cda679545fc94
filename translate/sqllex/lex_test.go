package sqllex

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type tok struct {
	Kind Kind
	Text string
}

func lexText(src string, d Dialect) []tok {
	var out []tok
	for _, t := range Tokens(src, d) {
		out = append(out, tok{t.Kind, t.Text(src)})
	}
	return out
}

func TestTokens(t *testing.T) {
	for _, c := range []struct {
		src  string
		d    Dialect
		want []tok
	}{
		{"SELECT a, 'x''y' FROM t;", Postgres, []tok{{Ident, "SELECT"}, {Ident, "a"}, {Punct, ","}, {String, "'x''y'"}, {Ident, "FROM"}, {Ident, "t"}, {Punct, ";"}}},
		{`E'it\'s' e'\\' B'01' X'ff' N'n' U&'d\0061'`, Postgres, []tok{{EString, `E'it\'s'`}, {EString, `e'\\'`}, {EString, "B'01'"}, {EString, "X'ff'"}, {EString, "N'n'"}, {EString, `U&'d\0061'`}}},
		{`"a""b" U&"x" "sel;ect"`, Postgres, []tok{{QIdent, `"a""b"`}, {QIdent, `U&"x"`}, {QIdent, `"sel;ect"`}}},
		{"$$a;b$$ $t$ $$ $t$ $1 $12x", Postgres, []tok{{Dollar, "$$a;b$$"}, {Dollar, "$t$ $$ $t$"}, {Param, "$1"}, {Param, "$12"}, {Ident, "x"}}},
		{"a/* x /* y */ ; */b -- c;\nd", Postgres, []tok{{Ident, "a"}, {Ident, "b"}, {Ident, "d"}}},
		{"1 1.5 .5 1e10 1.e-3 1_000 0x1F 12abc", Postgres, []tok{{Number, "1"}, {Number, "1.5"}, {Number, ".5"}, {Number, "1e10"}, {Number, "1.e-3"}, {Number, "1_000"}, {Number, "0x1F"}, {Number, "12abc"}}},
		{"a::int b//2 c<>-1 x--y", Postgres, []tok{{Ident, "a"}, {Op, "::"}, {Ident, "int"}, {Ident, "b"}, {Op, "//"}, {Number, "2"}, {Ident, "c"}, {Op, "<>-"}, {Number, "1"}, {Ident, "x"}}},
		{"? $name ?2", DuckDB, []tok{{Param, "?"}, {Param, "$name"}, {Param, "?2"}}},
		{"? $name", Postgres, []tok{{Op, "?"}, {Punct, "$"}, {Ident, "name"}}},
		{"'open", Postgres, []tok{{Bad, "'open"}}},
		{"a /* open", Postgres, []tok{{Ident, "a"}, {Bad, "/* open"}}},
		{"$q$ open", Postgres, []tok{{Bad, "$q$ open"}}},
		{"ｓｅｌｅｃｔ café", Postgres, []tok{{Ident, "ｓｅｌｅｃｔ"}, {Ident, "café"}}},
		{"a.b[1]", Postgres, []tok{{Ident, "a"}, {Punct, "."}, {Ident, "b"}, {Punct, "["}, {Number, "1"}, {Punct, "]"}}},
	} {
		if d := cmp.Diff(c.want, lexText(c.src, c.d)); d != "" {
			t.Errorf("%q (-want +got):\n%s", c.src, d)
		}
	}
}

func TestSplit(t *testing.T) {
	got := Split("SELECT ';'; ;; -- x;\n SELECT $$;$$ ; /* ; */", Postgres)
	want := []string{"SELECT ';'", "SELECT $$;$$"}
	if d := cmp.Diff(want, got); d != "" {
		t.Error(d)
	}
}

func TestValues(t *testing.T) {
	src := `'it''s' $x$a'b$x$ E'a\nb\'c\101' "Q""x" Foo`
	toks := Tokens(src, Postgres)
	var got []string
	for _, tk := range toks {
		if v, ok := StringValue(src, tk); ok {
			got = append(got, v)
		} else if v, ok := IdentValue(src, tk); ok {
			got = append(got, v)
		}
	}
	want := []string{"it's", "a'b", "a\nb'cA", `Q"x`, "foo"}
	if d := cmp.Diff(want, got); d != "" {
		t.Error(d)
	}
}

// FuzzTokens checks the lexer's invariants on any text: tokens are in
// order, do not overlap, stay inside the text, and whatever lies between
// them is only space and comments.
func FuzzTokens(f *testing.F) {
	for _, s := range []string{"SELECT 'a''b', E'\\'', $$x$$, \"q\" -- c\n/* /* */ */ 1.5e3 $1 ? ::", "'", "/*", "$a$", "U&'x'", "\xff\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, d := range []Dialect{Postgres, DuckDB} {
			last := 0
			for _, tk := range Tokens(src, d) {
				if tk.Start < last || tk.End <= tk.Start || tk.End > len(src) {
					t.Fatalf("bad span %v after %d in %q", tk, last, src)
				}
				gap := src[last:tk.Start]
				if strings.TrimSpace(stripComments(gap)) != "" {
					t.Fatalf("text %q between tokens in %q", gap, src)
				}
				last = tk.End
			}
			if rest := src[last:]; strings.TrimSpace(stripComments(rest)) != "" {
				t.Fatalf("trailing text %q in %q", rest, src)
			}
			_ = Split(src, d)
		}
	})
}

// stripComments removes -- and /* */ comments from text known to hold
// only space and comments.
func stripComments(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "--"):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return sb.String()
			}
			i += j + 1
		case strings.HasPrefix(s[i:], "/*"):
			depth := 0
			for i < len(s) {
				if strings.HasPrefix(s[i:], "/*") {
					depth++
					i += 2
				} else if strings.HasPrefix(s[i:], "*/") {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
		default:
			sb.WriteByte(s[i])
			i++
		}
	}
	return sb.String()
}
