package pgwire

import (
	"strings"
)

// The gateway must look at query text before the translator does: to split
// a simple Query into statements, to answer session commands (SET, BEGIN…)
// itself, to find and bind $n parameters, and to send catalog queries to the
// catalog engine instead of the user's data. A full parse is the
// translator's job; these need only PostgreSQL's lexical structure (quotes,
// comments, dollar quoting), which this scanner follows exactly so that a
// ';' or '$1' inside a string is never mistaken for syntax.

type tokKind uint8

const (
	tokIdent  tokKind = iota // bare word, lower-cased in text
	tokQIdent                // "quoted identifier", unquoted in text
	tokString                // '…', E'…', $$…$$ (raw span in the query)
	tokNumber
	tokParam // $n
	tokOp    // operators and punctuation, one rune or a run of operator chars
	tokSemi
)

type token struct {
	kind  tokKind
	text  string // identifiers lower-cased; other kinds: the raw span
	start int    // byte offsets into the query
	end   int
	param int // for tokParam
}

// scan tokenizes q. Unterminated quotes and comments run to the end of the
// text, which the translator then rejects with a proper syntax error.
func scan(q string, f func(token) bool) {
	i := 0
	n := len(q)
	for i < n {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < n && q[i+1] == '-':
			for i < n && q[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < n && q[i+1] == '*':
			// Comments nest in PostgreSQL.
			depth := 0
			for i < n {
				if q[i] == '/' && i+1 < n && q[i+1] == '*' {
					depth++
					i += 2
				} else if q[i] == '*' && i+1 < n && q[i+1] == '/' {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
		case c == '\'' || ((c == 'e' || c == 'E') && i+1 < n && q[i+1] == '\''):
			start := i
			esc := c != '\''
			if esc {
				i++
			}
			i++
			for i < n {
				if esc && q[i] == '\\' {
					i += 2
					continue
				}
				if q[i] == '\'' {
					if i+1 < n && q[i+1] == '\'' {
						i += 2
						continue
					}
					i++
					break
				}
				i++
			}
			if i > n {
				i = n
			}
			if !f(token{kind: tokString, text: q[start:i], start: start, end: i}) {
				return
			}
		case c == '"':
			start := i
			i++
			var sb strings.Builder
			for i < n {
				if q[i] == '"' {
					if i+1 < n && q[i+1] == '"' {
						sb.WriteByte('"')
						i += 2
						continue
					}
					i++
					break
				}
				sb.WriteByte(q[i])
				i++
			}
			if !f(token{kind: tokQIdent, text: sb.String(), start: start, end: i}) {
				return
			}
		case c == '$':
			start := i
			j := i + 1
			for j < n && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			if j > i+1 {
				p := 0
				for _, d := range q[i+1 : j] {
					if p < 1<<20 {
						p = p*10 + int(d-'0')
					}
				}
				i = j
				if !f(token{kind: tokParam, text: q[start:i], start: start, end: i, param: p}) {
					return
				}
				continue
			}
			// Dollar quote: $tag$ … $tag$ (a tag has no '$' of its own).
			for j < n && (isIdentStart(q[j]) || (q[j] >= '0' && q[j] <= '9')) {
				j++
			}
			if j < n && q[j] == '$' {
				tag := q[i : j+1]
				end := strings.Index(q[j+1:], tag)
				if end < 0 {
					i = n
				} else {
					i = j + 1 + end + len(tag)
				}
				if !f(token{kind: tokString, text: q[start:i], start: start, end: i}) {
					return
				}
				continue
			}
			i++
			if !f(token{kind: tokOp, text: "$", start: start, end: i}) {
				return
			}
		case c == ';':
			i++
			if !f(token{kind: tokSemi, text: ";", start: i - 1, end: i}) {
				return
			}
		case c >= '0' && c <= '9' || (c == '.' && i+1 < n && q[i+1] >= '0' && q[i+1] <= '9'):
			start := i
			for i < n && (isIdentChar(q[i]) || q[i] == '.' || ((q[i] == '+' || q[i] == '-') && (q[i-1] == 'e' || q[i-1] == 'E'))) {
				i++
			}
			if !f(token{kind: tokNumber, text: q[start:i], start: start, end: i}) {
				return
			}
		case isIdentStart(c):
			start := i
			for i < n && isIdentChar(q[i]) {
				i++
			}
			if !f(token{kind: tokIdent, text: strings.ToLower(q[start:i]), start: start, end: i}) {
				return
			}
		default:
			start := i
			if strings.IndexByte(opChars, c) >= 0 {
				for i < n && strings.IndexByte(opChars, q[i]) >= 0 && !(q[i] == '-' && i+1 < n && q[i+1] == '-') && !(q[i] == '/' && i+1 < n && q[i+1] == '*') {
					i++
				}
			} else {
				i++
			}
			if !f(token{kind: tokOp, text: q[start:i], start: start, end: i}) {
				return
			}
		}
	}
}

const opChars = "+-*/<>=~!@#%^&|`?:"

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$' }

// splitStatements cuts a simple Query's text at top-level semicolons.
// Statements with no tokens (";;", a lone comment) are dropped, as
// PostgreSQL does.
func splitStatements(q string) []string {
	var out []string
	start := 0
	hasTok := false
	scan(q, func(t token) bool {
		if t.kind == tokSemi {
			if hasTok {
				out = append(out, strings.TrimSpace(q[start:t.start]))
			}
			start, hasTok = t.end, false
			return true
		}
		hasTok = true
		return true
	})
	if hasTok {
		out = append(out, strings.TrimSpace(q[start:]))
	}
	return out
}

// tokens returns up to max tokens of q (all when max <= 0).
func tokens(q string, max int) []token {
	var out []token
	scan(q, func(t token) bool {
		out = append(out, t)
		return max <= 0 || len(out) < max
	})
	return out
}

// words returns the leading identifiers of q, lower-cased, up to max.
func words(q string, max int) []string {
	var out []string
	scan(q, func(t token) bool {
		if t.kind != tokIdent {
			return false
		}
		out = append(out, t.text)
		return len(out) < max
	})
	return out
}

// Token is a lexical token, exported for the catalog rewriter.
type Token struct {
	Kind       TokKind
	Text       string
	Start, End int
}

// TokKind classifies a Token.
type TokKind = tokKind

// Token kinds.
const (
	TokIdent  = tokIdent
	TokQIdent = tokQIdent
	TokString = tokString
	TokNumber = tokNumber
	TokParam  = tokParam
	TokOp     = tokOp
	TokSemi   = tokSemi
)

// Tokens splits q into PostgreSQL tokens (identifiers lower-cased).
func Tokens(q string) []Token {
	var out []Token
	scan(q, func(t token) bool {
		out = append(out, Token{Kind: t.kind, Text: t.text, Start: t.start, End: t.end})
		return true
	})
	return out
}
