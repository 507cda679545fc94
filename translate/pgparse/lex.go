package pgparse

import "tsgate/translate/sqllex"

// Token boundaries, from the one lexer (translate/sqllex). pg_query does
// the real parsing; these tokens only need to recognize Arc's
// non-PostgreSQL statements, name DuckDB-only syntax when pg_query rejects
// a query, and cut literals out for the normalized-form cache. Anything
// not modeled stops lex with ok false, and callers then fall back to
// pg_query alone.

type tokKind uint8

const (
	tokBad tokKind = iota
	tokIdent
	tokQIdent // "quoted"
	tokString // '...' standard string
	tokOtherString
	tokInt
	tokNumber
	tokParam
	tokOp
	tokPunct
)

type token struct {
	kind       tokKind
	start, end int // byte offsets into the query
}

// lex appends the tokens of s to dst, read by tsgate's one SQL lexer
// (translate/sqllex). ok is false when the text has something these
// callers do not model — an unterminated literal or comment, dollar
// quoting, a number in a form PostgreSQL 16 added (1_000, 0x1F) — and
// they then fall back to pg_query alone; the tokens up to there are still
// returned.
func lex(s string, dst []token) (toks []token, ok bool) {
	l := sqllex.New(s, sqllex.Postgres)
	for {
		t, more := l.Next()
		if !more {
			return dst, true
		}
		var k tokKind
		switch t.Kind {
		case sqllex.Ident:
			k = tokIdent
		case sqllex.QIdent:
			if s[t.Start] != '"' {
				return dst, false // U&"…"
			}
			k = tokQIdent
		case sqllex.String:
			k = tokString
		case sqllex.EString:
			if c := s[t.Start]; c == 'e' || c == 'E' || c == 'u' || c == 'U' {
				// Backslash and Unicode escapes: not modeled.
				return dst, false
			}
			k = tokOtherString
		case sqllex.Number:
			k = lexNumberKind(t.Text(s))
			if k == tokBad {
				return dst, false
			}
		case sqllex.Param:
			k = tokParam
		case sqllex.Op:
			k = tokOp
		case sqllex.Punct:
			k = tokPunct
			if c := s[t.Start]; c == ':' || c == '$' {
				// A lone ':' (array slices) or '$': kept as operators,
				// as before.
				k = tokOp
			}
		default: // Bad, Dollar
			return dst, false
		}
		dst = append(dst, token{k, t.Start, t.End})
	}
}

// lexNumberKind classifies a numeric literal: tokInt for digits that fit
// int32 for certain (PostgreSQL makes an Integer node of those, a Float
// node of longer ones), tokNumber for other decimal forms, tokBad for
// forms this package does not model.
func lexNumberKind(n string) tokKind {
	digits := true
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c >= '0' && c <= '9':
		case c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-':
			digits = false
		default:
			return tokBad // 1_000, 0x1F, 123abc
		}
	}
	if digits && len(n) <= 9 {
		return tokInt
	}
	return tokNumber
}

// wordIs compares an identifier token with an upper-case keyword.
func wordIs(s string, t token, kw string) bool {
	if t.kind != tokIdent || t.end-t.start != len(kw) {
		return false
	}
	for i := 0; i < len(kw); i++ {
		c := s[t.start+i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != kw[i] {
			return false
		}
	}
	return true
}

func text(s string, t token) string { return s[t.start:t.end] }
