package pgparse

// A minimal SQL lexer. pg_query does the real parsing; this only needs to
// find token boundaries well enough to recognize Arc's non-PostgreSQL
// statements, name DuckDB-only syntax when pg_query rejects a query, and
// cut literals out for the normalized-form cache. Anything it does not
// understand it reports as tokBad, and callers then fall back to pg_query
// alone.

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

func isIdentStart(c byte) bool {
	return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$' }

func isOpChar(c byte) bool {
	switch c {
	case '+', '-', '*', '/', '<', '>', '=', '~', '!', '@', '#', '%', '^', '&', '|', '`', '?':
		return true
	}
	return false
}

// lex appends the tokens of s to dst. ok is false when the text has
// something the lexer does not model (an unterminated string or comment,
// dollar quoting); the tokens up to there are still returned.
func lex(s string, dst []token) (toks []token, ok bool) {
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			depth := 0
			j := i
			for j < len(s) {
				if j+1 < len(s) && s[j] == '/' && s[j+1] == '*' {
					depth++
					j += 2
				} else if j+1 < len(s) && s[j] == '*' && s[j+1] == '/' {
					depth--
					j += 2
					if depth == 0 {
						break
					}
				} else {
					j++
				}
			}
			if depth != 0 {
				return dst, false
			}
			i = j
		case c == '\'':
			j, ok := scanString(s, i)
			if !ok {
				return dst, false
			}
			dst = append(dst, token{tokString, i, j})
			i = j
		case (c == 'e' || c == 'E' || c == 'b' || c == 'B' || c == 'x' || c == 'X' || c == 'n' || c == 'N') && i+1 < len(s) && s[i+1] == '\'':
			// E'', B'', X'' and N'' strings have their own escape rules;
			// they are kept verbatim.
			j, ok := scanString(s, i+1)
			if !ok || c == 'e' || c == 'E' {
				// E'' allows \' inside, which scanString does not model.
				return dst, false
			}
			dst = append(dst, token{tokOtherString, i, j})
			i = j
		case c == '$':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i+1 {
				return dst, false // dollar quoting
			}
			dst = append(dst, token{tokParam, i, j})
			i = j
		case c == '"':
			j := i + 1
			for {
				if j >= len(s) {
					return dst, false
				}
				if s[j] == '"' {
					if j+1 < len(s) && s[j+1] == '"' {
						j += 2
						continue
					}
					j++
					break
				}
				j++
			}
			dst = append(dst, token{tokQIdent, i, j})
			i = j
		case c >= '0' && c <= '9' || (c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9'):
			j := i
			kind := tokInt
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j < len(s) && s[j] == '.' && !(j+1 < len(s) && s[j+1] == '.') {
				kind = tokNumber
				j++
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
			}
			if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
				k := j + 1
				if k < len(s) && (s[k] == '+' || s[k] == '-') {
					k++
				}
				if k < len(s) && s[k] >= '0' && s[k] <= '9' {
					kind = tokNumber
					j = k
					for j < len(s) && s[j] >= '0' && s[j] <= '9' {
						j++
					}
				}
			}
			if j < len(s) && (isIdentStart(s[j]) || s[j] == '_') {
				// 1_000, 0x1F, 123abc: PostgreSQL 16+ number syntax or an
				// error; not modeled.
				return dst, false
			}
			if kind == tokInt && j-i > 9 {
				// Might not fit int32, where PostgreSQL switches the
				// constant's node type; treat as structural.
				kind = tokNumber
			}
			dst = append(dst, token{kind, i, j})
			i = j
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			dst = append(dst, token{tokIdent, i, j})
			i = j
		case isOpChar(c):
			j := i + 1
			for j < len(s) && isOpChar(s[j]) {
				if s[j] == '-' && j+1 < len(s) && s[j+1] == '-' || s[j] == '/' && j+1 < len(s) && s[j+1] == '*' {
					break
				}
				j++
			}
			dst = append(dst, token{tokOp, i, j})
			i = j
		case c == ':' && i+1 < len(s) && s[i+1] == ':':
			dst = append(dst, token{tokOp, i, i + 2})
			i += 2
		default:
			dst = append(dst, token{tokPunct, i, i + 1})
			i++
		}
	}
	return dst, true
}

// scanString returns the end of the '...' string starting at i.
func scanString(s string, i int) (int, bool) {
	j := i + 1
	for j < len(s) {
		if s[j] == '\'' {
			if j+1 < len(s) && s[j+1] == '\'' {
				j += 2
				continue
			}
			return j + 1, true
		}
		j++
	}
	return j, false
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
