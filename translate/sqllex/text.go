package sqllex

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Split cuts src at the semicolons between statements (never one inside
// a literal, identifier or comment) and returns each statement's text
// from its first token to its last: comments around it are dropped, so
// the text can be embedded in another statement safely. Statements with
// no token (";;", a lone comment) are dropped, as PostgreSQL drops them.
func Split(src string, d Dialect) []string {
	var out []string
	start, end, has := 0, 0, false
	l := New(src, d)
	for {
		t, ok := l.Next()
		if !ok {
			break
		}
		if t.Kind == Punct && src[t.Start] == ';' {
			if has {
				out = append(out, src[start:end])
			}
			has = false
			continue
		}
		if !has {
			start, has = t.Start, true
		}
		end = t.End
	}
	if has {
		out = append(out, src[start:end])
	}
	return out
}

// StringValue is the value of a string literal token, and whether the
// lexer could decode it (E” octal/hex/unicode escapes, B” and X”
// are left to the parser: ok is false for them).
func StringValue(src string, t Token) (string, bool) {
	s := t.Text(src)
	switch t.Kind {
	case String:
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'"), true
	case Dollar:
		i := strings.IndexByte(s[1:], '$') + 2
		return s[i : len(s)-i], true
	case EString:
		if s[0] != 'e' && s[0] != 'E' {
			return "", false
		}
		return unescapeE(s[2 : len(s)-1])
	}
	return "", false
}

// unescapeE decodes the body of an E” literal.
func unescapeE(body string) (string, bool) {
	var sb strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '\'' { // a doubled quote
			sb.WriteByte('\'')
			i++
			continue
		}
		if c != '\\' || i+1 >= len(body) {
			sb.WriteByte(c)
			continue
		}
		i++
		switch e := body[i]; e {
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(body) && j < i+3 && body[j] >= '0' && body[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(body[i:j], 8, 16)
			if v == 0 || v > 0xff {
				return "", false
			}
			sb.WriteByte(byte(v))
			i = j - 1
		case 'x', 'u', 'U':
			// Hex and Unicode escapes: left to the parser.
			return "", false
		default:
			sb.WriteByte(e)
		}
	}
	out := sb.String()
	return out, utf8.ValidString(out)
}

// IdentValue is the name an identifier token stands for: a bare word
// folded to lower case (ASCII only, as PostgreSQL folds), a quoted one
// with its doubled quotes undone. ok is false for U&"…" (escapes left to
// the parser) and other kinds.
func IdentValue(src string, t Token) (string, bool) {
	s := t.Text(src)
	switch t.Kind {
	case Ident:
		return lowerASCII(s), true
	case QIdent:
		if s[0] != '"' {
			return "", false
		}
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`), true
	}
	return "", false
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
