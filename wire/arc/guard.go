package arc

import (
	"strings"

	"tsgate/errs"
	"tsgate/translate/sqllex"
)

// What a query may do is not decided here: the gateway classifies every
// statement with DuckDB's own parser before any engine sees it (package
// guard). This file holds Arc's request-level rules — the text is
// present and not too long, the database names are well formed — and
// recognizes Arc's SHOW commands, which the API answers itself.

// checkText applies Arc's first two rules.
func checkText(sql string, maxLen int) error {
	if strings.TrimSpace(sql) == "" {
		return errs.New(errs.Invalid, "SQL query is required")
	}
	if len(sql) > maxLen {
		return errs.Newf(errs.Invalid, "SQL query exceeds maximum length (%d characters)", maxLen)
	}
	return nil
}

// showCommand recognizes SHOW DATABASES and SHOW TABLES|MEASUREMENTS
// [FROM db] (comments anywhere, one optional trailing semicolon), on
// tokens, so a name in quotes or a comment never matches.
func showCommand(sql string) (kind showKind, from string, ok bool) {
	toks := sqllex.Tokens(sql, sqllex.DuckDB)
	if n := len(toks); n > 0 && toks[n-1].IsPunct(sql, ";") {
		toks = toks[:n-1]
	}
	if len(toks) < 2 || !toks[0].Is(sql, "SHOW") {
		return showNone, "", false
	}
	switch {
	case len(toks) == 2 && toks[1].Is(sql, "DATABASES"):
		return showDatabases, "", true
	case toks[1].Is(sql, "TABLES") || toks[1].Is(sql, "MEASUREMENTS"):
		switch {
		case len(toks) == 2:
			return showTables, "", true
		case len(toks) == 4 && toks[2].Is(sql, "FROM"):
			t := toks[3]
			switch t.Kind {
			case sqllex.Ident:
				return showTables, t.Text(sql), true
			case sqllex.QIdent, sqllex.String:
				s := t.Text(sql)
				return showTables, s[1 : len(s)-1], true
			}
		}
	}
	return showNone, "", false
}

const invalidDatabaseName = "invalid database name: must start with a letter and contain only alphanumeric characters, underscores, or hyphens (max 64 characters)"
