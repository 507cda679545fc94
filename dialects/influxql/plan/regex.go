package plan

import (
	"regexp"
	"strings"

	"tsgate/translate/sqlgen"
)

// Spelling SQL patterns as RE2 patterns both targets print between
// slashes.

// LikeRegex turns a LIKE pattern into an equivalent RE2 pattern: every
// literal character quoted, % as (?s).* and _ as (?s)., anchored at
// each end that has no %. ok is false for a trailing escape.
func LikeRegex(pat, esc string) (string, bool) {
	toks, ok := sqlgen.ParseLike(pat, esc)
	if !ok {
		return "", false
	}
	if len(toks) == 0 {
		return "^$", true // LIKE '' matches the empty string only
	}
	start, end := 0, len(toks)
	for start < end && toks[start].Wild == '%' {
		start++
	}
	for end > start && toks[end-1].Wild == '%' {
		end--
	}
	var b strings.Builder
	dot := false
	if start == 0 {
		b.WriteByte('^')
	}
	for i := start; i < end; i++ {
		t := toks[i]
		switch t.Wild {
		case '%':
			if toks[i-1].Wild != '%' {
				b.WriteString(".*")
				dot = true
			}
		case '_':
			b.WriteByte('.')
			dot = true
		default:
			b.WriteString(regexp.QuoteMeta(string(t.R)))
		}
	}
	if end == len(toks) && start < end {
		b.WriteByte('$')
	}
	s := b.String()
	if s == "" {
		s = "^" // the pattern matches every string
	}
	if dot {
		// SQL's % and _ match newlines too.
		s = "(?s)" + s
	}
	return s, true
}

// printableRegex spells an RE2 pattern so it survives printing between
// slashes, meaning the same:
//   - each escaped backslash as \x5c: InfluxQL's and Flux's scanners read
//     `\\/` as a backslash and an escaped delimiter, so a pattern ending
//     in a literal backslash would not survive;
//   - a raw line feed or carriage return as \n or \r: InfluxQL's scanner
//     ends a regex literal at a line feed (a LIKE pattern for text with a
//     newline failed as "bad regex"). In valid RE2 a raw newline is never
//     itself escaped, so the escape sequence means the same character.
func printableRegex(re string) string {
	if !strings.ContainsAny(re, "\\\n\r") {
		return re
	}
	var b strings.Builder
	for i := 0; i < len(re); i++ {
		switch {
		case re[i] == '\\' && i+1 < len(re):
			if re[i+1] == '\\' {
				b.WriteString(`\x5c`)
			} else {
				b.WriteByte(re[i])
				b.WriteByte(re[i+1])
			}
			i++
		case re[i] == '\n':
			b.WriteString(`\n`)
		case re[i] == '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(re[i])
		}
	}
	return b.String()
}
