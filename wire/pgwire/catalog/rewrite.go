package catalog

import (
	"strings"

	"tsgate/wire/pgwire"
)

// rewrite adapts a PostgreSQL catalog query to the snapshot (see the
// package comment for the rules). It works on pgwire's tokens, so text
// inside string literals and comments is never touched.
func rewrite(q string, sn *snapshot, s pgwire.Session) string {
	toks := pgwire.Tokens(q)
	var sb strings.Builder
	last := 0
	emit := func(from int, text string, to int) {
		sb.WriteString(q[last:from])
		sb.WriteString(text)
		last = to
	}
	is := func(i int, text string) bool { return i < len(toks) && toks[i].Text == text }
	regexNext := false
	columnAlias := map[int]bool{}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if columnAlias[i] {
			emit(t.End, "("+t.Text+")", t.End)
			continue
		}
		if regexNext {
			regexNext = false
			if t.Kind == pgwire.TokString {
				emit(t.Start, partialMatch(t.Text, false), t.End)
				continue
			}
		}
		switch {
		case t.Kind == pgwire.TokIdent && (t.Text == "generate_series" || t.Text == "unnest") && is(i+1, "("):
			// FROM generate_series(…) s: PostgreSQL makes s the scalar
			// column; DuckDB would make it a row. Spell out s(s).
			depth, k := 0, i+1
			for ; k < len(toks); k++ {
				if toks[k].Text == "(" {
					depth++
				} else if toks[k].Text == ")" {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			a := k + 1
			if is(a, "as") {
				a++
			}
			if a < len(toks) && toks[a].Kind == pgwire.TokIdent && !aliasStop[toks[a].Text] && !is(a+1, "(") {
				columnAlias[a] = true
			}
		case t.Kind == pgwire.TokOp && isRegexOp(t.Text):
			regexNext = true
			if strings.HasSuffix(t.Text, "*") && i+1 < len(toks) && toks[i+1].Kind == pgwire.TokString {
				emit(t.Start, strings.TrimSuffix(t.Text, "*")+" "+partialMatch(toks[i+1].Text, true), toks[i+1].End)
				i++
				regexNext = false
			}
		case t.Kind == pgwire.TokIdent && t.Text == "pg_catalog" && is(i+1, "."):
			// Dropped: the snapshot schema leads the search path.
			emit(t.Start, "", toks[i+1].End)
			i++
		case t.Kind == pgwire.TokIdent && t.Text == "information_schema" && is(i+1, "."):
			emit(t.Start, sn.is+".", toks[i+1].End)
			i++
		case t.Kind == pgwire.TokIdent && t.Text == "operator" && is(i+1, "("):
			// OPERATOR(pg_catalog.~) → ~
			j := i + 2
			if is(j, "pg_catalog") && is(j+1, ".") {
				j += 2
			}
			if j+1 < len(toks) && toks[j].Kind == pgwire.TokOp && is(j+1, ")") {
				op := toks[j].Text
				ci := isRegexOp(op) && strings.HasSuffix(op, "*")
				if ci {
					op = strings.TrimSuffix(op, "*")
				}
				emit(t.Start, " "+op+" ", toks[j+1].End)
				i = j + 1
				if isRegexOp(toks[j].Text) && i+1 < len(toks) && toks[i+1].Kind == pgwire.TokString {
					emit(toks[i+1].Start, partialMatch(toks[i+1].Text, ci), toks[i+1].End)
					i++
				}
			}
		case t.Kind == pgwire.TokIdent && t.Text == "collate":
			// COLLATE pg_catalog.default / "C": comparisons here are
			// bytewise anyway.
			j := i + 1
			if is(j, "pg_catalog") && is(j+1, ".") {
				j += 2
			}
			if j < len(toks) && (toks[j].Kind == pgwire.TokIdent || toks[j].Kind == pgwire.TokQIdent) {
				emit(t.Start, "", toks[j].End)
				i = j
			}
		case t.Kind == pgwire.TokOp && t.Text == "::":
			j := i + 1
			if is(j, "pg_catalog") && is(j+1, ".") {
				j += 2
			}
			if j >= len(toks) {
				continue
			}
			name := toks[j].Text
			switch name {
			case "regclass", "regtype", "regnamespace", "regproc", "regprocedure", "regrole", "oid":
				if i > 0 && toks[i-1].Kind == pgwire.TokString && (name == "regproc" || name == "regprocedure") {
					// regproc columns (typinput…) hold function names here.
					emit(t.Start, "", toks[j].End)
				} else if i > 0 && toks[i-1].Kind == pgwire.TokString && name != "oid" && name != "regrole" {
					// 'pg_class'::regclass → regclass_in('pg_class')
					prev := toks[i-1]
					fn := map[string]string{"regclass": "regclass_in", "regtype": "regtype_in", "regnamespace": "regnamespace_in"}[name]
					sb.WriteString(q[last:prev.Start])
					sb.WriteString(fn + "(" + prev.Text + ")")
					last = toks[j].End
				} else {
					// An OID cast to a reg* type stays the OID.
					emit(t.Start, "::INTEGER", toks[j].End)
				}
				i = j
			case "name", "text", "varchar", "bpchar", "int2vector", "oidvector", "char", "regconfig":
				emit(t.Start, "::VARCHAR", toks[j].End)
				i = j
			default:
				if j != i+1 {
					emit(t.Start, "::", toks[j].Start) // drop the pg_catalog qualifier
					i = j - 1
				}
			}
		case t.Kind == pgwire.TokQIdent && t.Text == "char" && i > 0 && toks[i-1].Text == "::":
			emit(t.Start, "VARCHAR", t.End)
		case t.Kind == pgwire.TokIdent && (t.Text == "current_user" || t.Text == "session_user" || t.Text == "current_role" || t.Text == "user") && !is(i+1, "(") && !is(i-1, "."):
			if t.Text == "user" && (i == 0 || toks[i-1].Kind != pgwire.TokIdent || toks[i-1].Text != "select") && !is(i-1, ",") {
				continue
			}
			emit(t.Start, quoteLit(s.User), t.End)
		case t.Kind == pgwire.TokIdent && t.Text == "current_catalog" && !is(i+1, "("):
			emit(t.Start, quoteLit(s.Database), t.End)
		}
	}
	sb.WriteString(q[last:])
	return sb.String()
}

func isRegexOp(op string) bool { return op == "~" || op == "!~" || op == "~*" || op == "!~*" }

// partialMatch turns a PostgreSQL regular expression literal (which
// matches anywhere, as regexp_matches does) into one DuckDB's ~ (a full
// match) treats the same way.
func partialMatch(lit string, caseInsensitive bool) string {
	i := strings.IndexByte(lit, '\'')
	if i < 0 {
		return lit
	}
	flags := "(?s)"
	if caseInsensitive {
		flags = "(?is)"
	}
	return lit[:i+1] + flags + ".*(?:" + lit[i+1:len(lit)-1] + ").*'"
}

// aliasStop are words that can follow a FROM item but are not its alias.
var aliasStop = map[string]bool{"where": true, "join": true, "left": true, "right": true, "inner": true,
	"cross": true, "full": true, "on": true, "group": true, "order": true, "limit": true, "union": true,
	"natural": true, "using": true, "having": true, "window": true, "offset": true, "with": true}
