package arc

import (
	"regexp"
	"strings"

	"tsgate/errs"
)

// The Arc query API accepts one read-only statement. These checks give the
// same answers, with the same messages, as Arc's validation; they run on a
// token stream (comments dropped, literals and quoted identifiers kept as
// single tokens) so a keyword inside a string or comment never trips them
// and a comment can't hide one. The embedded store also runs with DuckDB's
// external access disabled, so a miss here still reads no file.

type tokKind uint8

const (
	tokWord   tokKind = iota // bare word: keyword or identifier
	tokQuoted                // "quoted identifier" (or `backtick`)
	tokString                // 'string literal' (also E'..', $$..$$)
	tokNumber
	tokPunct
)

type token struct {
	kind tokKind
	text string // words upper-cased; quoted identifiers unquoted
	raw  string
}

// lexSQL splits SQL into tokens. It never fails: unterminated literals and
// comments run to the end, as they would make the engine fail anyway.
func lexSQL(s string) []token {
	var out []token
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
			// PostgreSQL and DuckDB nest block comments.
			depth := 0
			for i < len(s) {
				if s[i] == '/' && i+1 < len(s) && s[i+1] == '*' {
					depth++
					i += 2
				} else if s[i] == '*' && i+1 < len(s) && s[i+1] == '/' {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
		case c == '\'':
			j := i + 1
			for j < len(s) {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						j += 2
						continue
					}
					j++
					break
				}
				j++
			}
			if j > len(s) {
				j = len(s)
			}
			out = append(out, token{kind: tokString, raw: s[i:j]})
			i = j
		case c == '"' || c == '`':
			j := i + 1
			var sb strings.Builder
			for j < len(s) {
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c {
						sb.WriteByte(c)
						j += 2
						continue
					}
					j++
					break
				}
				sb.WriteByte(s[j])
				j++
			}
			out = append(out, token{kind: tokQuoted, text: sb.String(), raw: s[i:min(j, len(s))]})
			i = j
		case c == '$' && i+1 < len(s) && (s[i+1] == '$' || isIdentStart(s[i+1])):
			// Dollar quoting: $tag$ ... $tag$.
			j := i + 1
			for j < len(s) && s[j] != '$' && isIdentPart(s[j]) {
				j++
			}
			if j < len(s) && s[j] == '$' {
				tag := s[i : j+1]
				if end := strings.Index(s[j+1:], tag); end >= 0 {
					k := j + 1 + end + len(tag)
					out = append(out, token{kind: tokString, raw: s[i:k]})
					i = k
					continue
				}
			}
			out = append(out, token{kind: tokPunct, text: "$", raw: "$"})
			i++
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdentPart(s[j]) {
				j++
			}
			w := s[i:j]
			out = append(out, token{kind: tokWord, text: strings.ToUpper(w), raw: w})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (isIdentPart(s[j]) || s[j] == '.') {
				j++
			}
			out = append(out, token{kind: tokNumber, raw: s[i:j]})
			i = j
		default:
			out = append(out, token{kind: tokPunct, text: string(c), raw: string(c)})
			i++
		}
	}
	return out
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$' }

// sqlText is a query's tokens and the facts the checks need.
type sqlText struct {
	toks []token
	// tables are the names in table position (after FROM/JOIN or a comma
	// in a FROM list), qualified as written: "cpu" or "db.cpu".
	tables []tableRef
	// literalTable is a string literal in table position: a DuckDB
	// replacement scan reading a file.
	literalTable bool
}

type tableRef struct {
	db, name string
}

// fileFunctions are DuckDB's file-reading table functions (upper case),
// Arc's denylist. A read-only table.
var fileFunctions = map[string]bool{
	"READ_PARQUET": true, "PARQUET_SCAN": true, "PARQUET_METADATA": true, "PARQUET_SCHEMA": true,
	"PARQUET_FILE_METADATA": true, "PARQUET_KV_METADATA": true, "PARQUET_BLOOM_PROBE": true, "READ_CSV": true,
	"READ_CSV_AUTO": true, "SNIFF_CSV": true, "READ_JSON": true, "READ_JSON_AUTO": true, "READ_JSON_OBJECTS": true,
	"READ_JSON_OBJECTS_AUTO": true, "READ_NDJSON": true, "READ_NDJSON_AUTO": true, "READ_NDJSON_OBJECTS": true,
	"READ_TEXT": true, "READ_BLOB": true, "READ_XLSX": true, "GLOB": true, "DELTA_SCAN": true,
	"ICEBERG_SCAN": true, "ICEBERG_METADATA": true, "ICEBERG_SNAPSHOTS": true, "ARC_PARTITION_AGG": true,
}

// clauseEnd are the keywords that end a FROM list at its nesting level.
var clauseEnd = map[string]bool{"WHERE": true, "GROUP": true, "ORDER": true, "LIMIT": true, "HAVING": true,
	"UNION": true, "EXCEPT": true, "INTERSECT": true, "WINDOW": true, "QUALIFY": true, "OFFSET": true,
	"ON": true, "USING": true, "SELECT": true, "FETCH": true, "RETURNING": true, "SAMPLE": true}

// notFunction are keywords that may stand before "(" without making it a
// function call's parenthesis.
var notFunction = map[string]bool{"FROM": true, "JOIN": true, "IN": true, "AS": true, "SELECT": true,
	"WHERE": true, "AND": true, "OR": true, "NOT": true, "ON": true, "EXISTS": true, "ANY": true, "ALL": true,
	"LATERAL": true, "WITH": true, "UNION": true, "VALUES": true, "THEN": true, "ELSE": true, "WHEN": true,
	"CASE": true, "BY": true, "HAVING": true, "USING": true, "SOME": true, "RECURSIVE": true}

func analyze(sql string) *sqlText {
	t := &sqlText{toks: lexSQL(sql)}
	toks := t.toks
	// Each paren level records whether it is a function call's argument
	// list: `EXTRACT(EPOCH FROM t)` has a FROM that names no table.
	type level struct {
		call   bool
		inFrom bool
	}
	stack := []level{{}}
	expectTable := false
	for i := 0; i < len(toks); i++ {
		tk := toks[i]
		top := &stack[len(stack)-1]
		switch {
		case tk.kind == tokPunct && tk.text == "(":
			call := i > 0 && (toks[i-1].kind == tokQuoted || (toks[i-1].kind == tokWord && !notFunction[toks[i-1].text]))
			stack = append(stack, level{call: call})
			expectTable = false
			continue
		case tk.kind == tokPunct && tk.text == ")":
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			expectTable = false
			continue
		}
		if top.call {
			continue
		}
		switch {
		case tk.kind == tokWord && (tk.text == "FROM" || tk.text == "JOIN"):
			top.inFrom = true
			expectTable = true
		case tk.kind == tokWord && clauseEnd[tk.text]:
			top.inFrom = false
			expectTable = false
		case tk.kind == tokPunct && tk.text == "," && top.inFrom:
			expectTable = true
		case expectTable:
			expectTable = false
			switch tk.kind {
			case tokString:
				t.literalTable = true
			case tokWord, tokQuoted:
				if tk.kind == tokWord && (tk.text == "LATERAL" || tk.text == "ONLY") {
					expectTable = true
					continue
				}
				// A name followed by "(" is a table function, not a table.
				ref, n := qualifiedName(toks[i:])
				if i+n < len(toks) && toks[i+n].kind == tokPunct && toks[i+n].text == "(" {
					continue
				}
				t.tables = append(t.tables, ref)
				i += n - 1
			}
		}
	}
	return t
}

// qualifiedName reads a.b or a.b.c (catalog.schema.table: the last two
// count) from toks and returns how many tokens it used.
func qualifiedName(toks []token) (tableRef, int) {
	var parts []string
	n := 0
	for n < len(toks) {
		tk := toks[n]
		if tk.kind != tokWord && tk.kind != tokQuoted {
			break
		}
		name := tk.raw
		if tk.kind == tokQuoted {
			name = tk.text
		}
		parts = append(parts, name)
		n++
		if n+1 < len(toks) && toks[n].kind == tokPunct && toks[n].text == "." {
			n++
			continue
		}
		break
	}
	switch len(parts) {
	case 0:
		return tableRef{}, 1
	case 1:
		return tableRef{name: parts[0]}, n
	default:
		return tableRef{db: parts[len(parts)-2], name: parts[len(parts)-1]}, n
	}
}

// dangerous reports a statement that changes state, loads code or reaches
// outside the database: everything but a query.
func (t *sqlText) dangerous() bool {
	toks := t.toks
	next := func(i int) string {
		if i+1 < len(toks) && toks[i+1].kind == tokWord {
			return toks[i+1].text
		}
		return ""
	}
	for i, tk := range toks {
		if tk.kind != tokWord {
			continue
		}
		switch tk.text {
		case "ATTACH", "DETACH", "COPY", "PRAGMA", "SET", "RESET", "LOAD", "INSTALL", "CALL", "CHECKPOINT", "VACUUM":
			// SET inside UPDATE … SET is caught by UPDATE; a bare SET
			// anywhere is a session change.
			return true
		case "DROP":
			switch next(i) {
			case "TABLE", "DATABASE", "INDEX", "VIEW", "SCHEMA", "SECRET", "MACRO", "SEQUENCE", "TYPE", "FUNCTION":
				return true
			}
		case "CREATE":
			switch next(i) {
			case "TABLE", "DATABASE", "INDEX", "VIEW", "SCHEMA", "SECRET", "MACRO", "SEQUENCE", "TYPE", "FUNCTION", "OR", "TEMP", "TEMPORARY", "PERSISTENT", "UNIQUE":
				return true
			}
		case "DELETE", "INSERT", "TRUNCATE", "UPDATE", "MERGE":
			// As the statement's verb (first word, or after a CTE's
			// closing paren) these write; as a column name they don't,
			// but Arc rejects `DELETE FROM`/`INSERT INTO` anywhere.
			switch tk.text {
			case "DELETE":
				if next(i) == "FROM" {
					return true
				}
			case "INSERT":
				if next(i) == "INTO" || next(i) == "OR" {
					return true
				}
			case "TRUNCATE":
				return true
			case "UPDATE":
				if i+2 < len(toks) && toks[i+2].kind == tokWord && toks[i+2].text == "SET" {
					return true
				}
				if i == 0 {
					return true
				}
			case "MERGE":
				if next(i) == "INTO" {
					return true
				}
			}
		case "ALTER":
			return true
		case "EXPORT", "IMPORT":
			if next(i) == "DATABASE" {
				return true
			}
		}
	}
	return false
}

// fileFunction returns the first file-reading function called, or "".
// Quoted spellings count: DuckDB calls "read_csv"(…) just the same.
func (t *sqlText) fileFunction() string {
	for i, tk := range t.toks {
		if tk.kind != tokWord && tk.kind != tokQuoted {
			continue
		}
		name := strings.ToUpper(tk.text)
		if !fileFunctions[name] {
			continue
		}
		if i+1 < len(t.toks) && t.toks[i+1].kind == tokPunct && t.toks[i+1].text == "(" {
			if tk.kind == tokWord {
				return strings.ToLower(tk.raw)
			}
			return strings.ToLower(tk.text)
		}
	}
	return ""
}

// multiple reports more than one statement: a ";" with anything after it.
func (t *sqlText) multiple() bool {
	for i, tk := range t.toks {
		if tk.kind == tokPunct && tk.text == ";" {
			for _, rest := range t.toks[i+1:] {
				if !(rest.kind == tokPunct && rest.text == ";") {
					return true
				}
			}
			return false
		}
	}
	return false
}

// crossDatabase reports a db.table reference.
func (t *sqlText) crossDatabase() bool {
	for _, r := range t.tables {
		if r.db != "" {
			return true
		}
	}
	return false
}

// validateSQL applies Arc's rules in Arc's order and returns the first
// violation.
func validateSQL(sql string, maxLen int) (*sqlText, error) {
	if strings.TrimSpace(sql) == "" {
		return nil, errs.New(errs.Invalid, "SQL query is required")
	}
	if len(sql) > maxLen {
		return nil, errs.Newf(errs.Invalid, "SQL query exceeds maximum length (%d characters)", maxLen)
	}
	t := analyze(sql)
	if t.multiple() {
		return nil, errs.New(errs.Invalid, "Multiple SQL statements are not allowed")
	}
	if t.dangerous() {
		return nil, errs.New(errs.Invalid, "Dangerous SQL operation not allowed")
	}
	if f := t.fileFunction(); f != "" {
		return nil, errs.New(errs.Invalid, "File I/O function not allowed in user SQL: "+f+"()")
	}
	if t.literalTable {
		return nil, errs.New(errs.Invalid, "String literal not allowed in table position (replacement scans are disabled); reference a table by name")
	}
	return t, nil
}

var (
	showDatabasesRe = regexp.MustCompile(`(?is)^\s*SHOW\s+DATABASES\s*;?\s*$`)
	showTablesRe    = regexp.MustCompile("(?is)^\\s*SHOW\\s+(?:TABLES|MEASUREMENTS)(?:\\s+FROM\\s+[\"'`]?([\\w.-]+)[\"'`]?)?\\s*;?\\s*$")
)

// stripped is the query without comments, so `/* x */ SHOW DATABASES` is
// still recognised as the SHOW command it is. It reuses the tokens the
// checks already lexed.
func (t *sqlText) stripped() string {
	var sb strings.Builder
	for _, tk := range t.toks {
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(tk.raw)
	}
	return sb.String()
}

var (
	databaseNameRe    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)
	measurementNameRe = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]{0,127}$`)
)

const invalidDatabaseName = "invalid database name: must start with a letter and contain only alphanumeric characters, underscores, or hyphens (max 64 characters)"

func validDatabase(name string) bool { return databaseNameRe.MatchString(name) }
