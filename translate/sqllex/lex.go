package sqllex

import (
	"strings"
	"unicode/utf8"
)

// Kind classifies a token.
type Kind uint8

const (
	// Bad is an unterminated literal, quoted identifier or comment: it
	// runs to the end of the text.
	Bad Kind = iota
	// Ident is a bare word: a keyword or an identifier (the lexer cannot
	// tell them apart, and never tries).
	Ident
	// QIdent is a "quoted identifier" (also U&"…").
	QIdent
	// String is a '…' literal in standard form (a quote doubles).
	String
	// EString is E'…' (backslash escapes), B'…', X'…', N'…' or U&'…'.
	EString
	// Dollar is a $tag$…$tag$ literal.
	Dollar
	// Number is a numeric literal.
	Number
	// Param is $n (and, in DuckDB, ? and $name).
	Param
	// Op is a run of operator characters (+ - * / < > = ~ ! @ # % ^ & | ` ?)
	// or ::.
	Op
	// Punct is one of ( ) [ ] { } , . : ;
	Punct
)

var kindNames = [...]string{"bad", "ident", "qident", "string", "estring", "dollar", "number", "param", "op", "punct"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// IsLiteral reports a string or number token.
func (k Kind) IsLiteral() bool { return k == String || k == EString || k == Dollar || k == Number }

// IsString reports a string literal of any form.
func (k Kind) IsString() bool { return k == String || k == EString || k == Dollar }

// Dialect selects the lexical rules.
type Dialect uint8

const (
	// Postgres follows PostgreSQL 15+.
	Postgres Dialect = iota
	// DuckDB adds ? and $name parameters.
	DuckDB
)

// Token is one token: its kind and its byte span in the source.
type Token struct {
	Kind       Kind
	Start, End int
}

// Text is the token's source text.
func (t Token) Text(src string) string { return src[t.Start:t.End] }

// Is reports whether t is the bare word kw (compared case-insensitively,
// ASCII only, as SQL keywords are).
func (t Token) Is(src, kw string) bool {
	return t.Kind == Ident && t.End-t.Start == len(kw) && strings.EqualFold(src[t.Start:t.End], kw)
}

// IsPunct reports whether t is the punctuation or operator p.
func (t Token) IsPunct(src, p string) bool {
	return (t.Kind == Punct || t.Kind == Op) && src[t.Start:t.End] == p
}

// Lexer scans one source text.
type Lexer struct {
	src string
	d   Dialect
	pos int
}

// New returns a lexer over src.
func New(src string, d Dialect) *Lexer { return &Lexer{src: src, d: d} }

// Tokens returns every token of src.
func Tokens(src string, d Dialect) []Token {
	var out []Token
	l := New(src, d)
	for {
		t, ok := l.Next()
		if !ok {
			return out
		}
		out = append(out, t)
	}
}

// Next returns the next token; ok is false at the end of the text.
func (l *Lexer) Next() (Token, bool) {
	s := l.src
	for l.pos < len(s) {
		c := s[l.pos]
		switch {
		case isSpace(c):
			l.pos++
			continue
		case c == '-' && l.peek(1) == '-':
			i := strings.IndexByte(s[l.pos:], '\n')
			if i < 0 {
				l.pos = len(s)
			} else {
				l.pos += i + 1
			}
			continue
		case c == '/' && l.peek(1) == '*':
			start := l.pos
			if !l.blockComment() {
				return Token{Bad, start, len(s)}, true
			}
			continue
		}
		return l.token(), true
	}
	return Token{}, false
}

func (l *Lexer) peek(n int) byte {
	if l.pos+n < len(l.src) {
		return l.src[l.pos+n]
	}
	return 0
}

// blockComment skips a (nested) block comment; false when unterminated.
func (l *Lexer) blockComment() bool {
	s := l.src
	depth := 0
	i := l.pos
	for i < len(s) {
		switch {
		case s[i] == '/' && i+1 < len(s) && s[i+1] == '*':
			depth++
			i += 2
		case s[i] == '*' && i+1 < len(s) && s[i+1] == '/':
			depth--
			i += 2
			if depth == 0 {
				l.pos = i
				return true
			}
		default:
			i++
		}
	}
	l.pos = len(s)
	return false
}

func (l *Lexer) token() Token {
	s := l.src
	start := l.pos
	c := s[start]
	emit := func(k Kind, end int) Token {
		l.pos = end
		return Token{k, start, end}
	}
	switch {
	case c == '\'':
		return emit(l.quoted(start, '\'', false))
	case (c == 'e' || c == 'E') && l.peek(1) == '\'':
		k, end := l.quoted(start+1, '\'', true)
		if k != Bad {
			k = EString
		}
		return emit(k, end)
	case (c == 'b' || c == 'B' || c == 'x' || c == 'X' || c == 'n' || c == 'N') && l.peek(1) == '\'':
		k, end := l.quoted(start+1, '\'', false)
		if k != Bad {
			k = EString
		}
		return emit(k, end)
	case (c == 'u' || c == 'U') && l.peek(1) == '&' && (l.peek(2) == '\'' || l.peek(2) == '"'):
		q := l.peek(2)
		k, end := l.quoted(start+2, q, false)
		if k != Bad {
			if q == '\'' {
				k = EString
			} else {
				k = QIdent
			}
		}
		return emit(k, end)
	case c == '"':
		k, end := l.quoted(start, '"', false)
		if k != Bad {
			k = QIdent
		}
		return emit(k, end)
	case c == '$':
		return emit(l.dollar(start))
	case c == '?' && l.d == DuckDB:
		end := start + 1
		for end < len(s) && isDigit(s[end]) {
			end++
		}
		return emit(Param, end)
	case isDigit(c) || (c == '.' && isDigit(l.peek(1))):
		return emit(Number, l.number(start))
	case isIdentStart(s, start):
		end := start
		for end < len(s) && isIdentPart(s, end) {
			end += identRuneLen(s, end)
		}
		return emit(Ident, end)
	case c == ':' && l.peek(1) == ':':
		return emit(Op, start+2)
	case strings.IndexByte("()[]{},.:;", c) >= 0:
		return emit(Punct, start+1)
	case isOpChar(c):
		end := start
		for end < len(s) && isOpChar(s[end]) {
			if end > start && (s[end] == '-' && end+1 < len(s) && s[end+1] == '-' ||
				s[end] == '/' && end+1 < len(s) && s[end+1] == '*') {
				break
			}
			end++
		}
		return emit(Op, end)
	}
	// Anything else (a control character, an invalid byte) is one
	// token of its own, which every parser rejects.
	_, n := utf8.DecodeRuneInString(s[start:])
	return emit(Punct, start+n)
}

// quoted scans a literal opening at i with quote q: a doubled quote is one
// quote character, and with backslashes a backslash escapes the next byte.
func (l *Lexer) quoted(i int, q byte, backslashes bool) (Kind, int) {
	s := l.src
	j := i + 1
	for j < len(s) {
		switch {
		case backslashes && s[j] == '\\':
			j += 2
		case s[j] == q:
			if j+1 < len(s) && s[j+1] == q {
				j += 2
				continue
			}
			return String, j + 1
		default:
			j++
		}
	}
	return Bad, len(s)
}

// dollar scans what starts with '$': a parameter, a dollar-quoted
// literal, or a lone '$' (an operator character in neither dialect).
func (l *Lexer) dollar(start int) (Kind, int) {
	s := l.src
	j := start + 1
	if j < len(s) && isDigit(s[j]) {
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		return Param, j
	}
	// A tag is an identifier without '$': $$ or $tag$.
	for j < len(s) && s[j] != '$' && isIdentPart(s, j) {
		j += identRuneLen(s, j)
	}
	if j < len(s) && s[j] == '$' && (j == start+1 || isIdentStart(s, start+1)) {
		tag := s[start : j+1]
		if end := strings.Index(s[j+1:], tag); end >= 0 {
			return Dollar, j + 1 + end + len(tag)
		}
		return Bad, len(s)
	}
	if l.d == DuckDB && j > start+1 && isIdentStart(s, start+1) {
		return Param, j // $name
	}
	return Punct, start + 1
}

// number scans a numeric literal: digits with optional '_' separators,
// a fraction, an exponent, or 0x/0o/0b forms. Trailing identifier
// characters are part of the token (123abc is one bad literal to the
// parser, not a number and a word).
func (l *Lexer) number(i int) int {
	s := l.src
	j := i
	if s[j] == '0' && j+1 < len(s) && strings.IndexByte("xXoObB", s[j+1]) >= 0 {
		j += 2
	} else {
		for j < len(s) && (isDigit(s[j]) || s[j] == '_') {
			j++
		}
		if j < len(s) && s[j] == '.' && !(j+1 < len(s) && s[j+1] == '.') {
			j++
			for j < len(s) && (isDigit(s[j]) || s[j] == '_') {
				j++
			}
		}
		if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
			k := j + 1
			if k < len(s) && (s[k] == '+' || s[k] == '-') {
				k++
			}
			if k < len(s) && isDigit(s[k]) {
				j = k
				for j < len(s) && isDigit(s[j]) {
					j++
				}
			}
		}
	}
	for j < len(s) && isIdentPart(s, j) {
		j += identRuneLen(s, j)
	}
	return j
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isIdentStart: a letter, '_', or any non-ASCII byte (PostgreSQL treats
// every byte >= 0x80 as a letter).
func isIdentStart(s string, i int) bool {
	c := s[i]
	return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80
}

func isIdentPart(s string, i int) bool {
	c := s[i]
	return isIdentStart(s, i) || isDigit(c) || c == '$'
}

func identRuneLen(s string, i int) int {
	if s[i] < 0x80 {
		return 1
	}
	_, n := utf8.DecodeRuneInString(s[i:])
	return n
}

func isOpChar(c byte) bool { return strings.IndexByte("+-*/<>=~!@#%^&|`?", c) >= 0 }
