package pgwire

import (
	"strings"

	"tsgate/translate/sqllex"
)

// The gateway must look at query text before the translator does: to split
// a simple Query into statements, to read the names and values of session
// commands (SET, DECLARE…) that pg_query has classified, to find and bind
// $n parameters, and to send catalog queries to the catalog engine instead
// of the user's data. These need only PostgreSQL's lexical structure
// (quotes, comments, dollar quoting), so a ';' or '$1' inside a string is
// never mistaken for syntax: the one lexer, translate/sqllex, provides it.

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

// scan tokenizes q with tsgate's one SQL lexer (translate/sqllex, in
// PostgreSQL mode) and hands f each token in this package's form:
// identifiers lower-cased, quoted identifiers unquoted, literals and
// operators as their raw span. An unterminated literal or comment runs to
// the end of the text as one token, which the parser then rejects.
func scan(q string, f func(token) bool) {
	l := sqllex.New(q, sqllex.Postgres)
	for {
		t, ok := l.Next()
		if !ok {
			return
		}
		tk := token{text: t.Text(q), start: t.Start, end: t.End}
		switch t.Kind {
		case sqllex.Ident:
			tk.kind = tokIdent
			tk.text = strings.ToLower(tk.text)
		case sqllex.QIdent:
			tk.kind = tokQIdent
			if v, ok := sqllex.IdentValue(q, t); ok {
				tk.text = v
			}
		case sqllex.String, sqllex.EString, sqllex.Dollar, sqllex.Bad:
			tk.kind = tokString
		case sqllex.Number:
			tk.kind = tokNumber
		case sqllex.Param:
			tk.kind = tokParam
			for _, d := range tk.text[1:] {
				if tk.param < 1<<20 {
					tk.param = tk.param*10 + int(d-'0')
				}
			}
		case sqllex.Punct:
			tk.kind = tokOp
			if tk.text == ";" {
				tk.kind = tokSemi
			}
		default:
			tk.kind = tokOp
		}
		if !f(tk) {
			return
		}
	}
}

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
