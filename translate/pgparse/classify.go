package pgparse

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"tsgate/errs"
)

// Kind is what one PostgreSQL statement is, as PostgreSQL's own grammar
// (pg_query) parses it. The pg-wire front end routes by Kind; nothing
// decides a statement's kind from its words.
type Kind uint8

const (
	// KindOther is any statement tsgate does not run: DDL, DML, COPY,
	// LOCK, LISTEN, CALL, DO, … (Statement names the node).
	KindOther Kind = iota
	// KindQuery is a read-only query: SELECT, VALUES, TABLE, WITH …
	// SELECT, without INTO and without row locks.
	KindQuery
	// KindExplain is EXPLAIN of a read-only query.
	KindExplain
	// KindSet is SET / SET LOCAL / RESET (a run-time parameter).
	KindSet
	// KindShow is SHOW name.
	KindShow
	// KindTransaction is BEGIN/START, COMMIT/END, ROLLBACK/ABORT,
	// SAVEPOINT, RELEASE, PREPARE TRANSACTION…
	KindTransaction
	// KindDiscard is DISCARD ALL/PLANS/SEQUENCES/TEMP.
	KindDiscard
	// KindDeclare is DECLARE name CURSOR FOR query (Query holds the
	// query's classification).
	KindDeclare
	// KindFetch is FETCH or MOVE.
	KindFetch
	// KindClose is CLOSE name | ALL.
	KindClose
	// KindDeallocate is DEALLOCATE [PREPARE] name | ALL.
	KindDeallocate
	// KindListen is LISTEN or UNLISTEN (no notification is ever sent).
	KindListen
	// KindArc is one of Arc's statements outside PostgreSQL's grammar:
	// SHOW DATABASES, SHOW TABLES|MEASUREMENTS [FROM db], DESCRIBE t.
	KindArc
)

var kindNames = [...]string{"other", "query", "explain", "set", "show", "transaction", "discard", "declare", "fetch", "close", "deallocate", "listen", "arc"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// Class is a statement's classification.
type Class struct {
	Kind Kind
	// Statement names the parse node ("CreateStmt", "CopyStmt", …), for
	// refusals.
	Statement string
}

// Classify parses sql as exactly one PostgreSQL statement and says what it
// is. A syntax error is Invalid (42601), several statements are Invalid
// (42601); any single statement classifies, KindOther included.
func Classify(sql string) (Class, error) {
	if _, ok, err := parseArc(sql); ok && err == nil {
		return Class{Kind: KindArc, Statement: "Arc statement"}, nil
	}
	tree, err := pg.Parse(sql)
	if err != nil {
		return Class{}, syntaxError(sql, err)
	}
	switch len(tree.Stmts) {
	case 0:
		return Class{}, &errs.Error{Code: errs.Invalid, SQLState: "42601", Msg: "empty query"}
	case 1:
	default:
		return Class{}, &errs.Error{Code: errs.Invalid, SQLState: "42601", Msg: "cannot insert multiple commands into a prepared statement"}
	}
	return classifyNode(tree.Stmts[0].Stmt), nil
}

func classifyNode(n *pg.Node) Class {
	c := Class{Statement: nodeName(n)}
	switch {
	case n.GetSelectStmt() != nil:
		if readOnlySelect(n.GetSelectStmt()) {
			c.Kind = KindQuery
		}
	case n.GetExplainStmt() != nil:
		if q := n.GetExplainStmt().GetQuery(); q != nil && classifyNode(q).Kind == KindQuery {
			c.Kind = KindExplain
		}
	case n.GetVariableSetStmt() != nil:
		c.Kind = KindSet
	case n.GetVariableShowStmt() != nil:
		c.Kind = KindShow
	case n.GetTransactionStmt() != nil:
		c.Kind = KindTransaction
	case n.GetDiscardStmt() != nil:
		c.Kind = KindDiscard
	case n.GetDeclareCursorStmt() != nil:
		if q := n.GetDeclareCursorStmt().GetQuery(); q != nil && classifyNode(q).Kind == KindQuery {
			c.Kind = KindDeclare
		}
	case n.GetFetchStmt() != nil:
		c.Kind = KindFetch
	case n.GetClosePortalStmt() != nil:
		c.Kind = KindClose
	case n.GetDeallocateStmt() != nil:
		c.Kind = KindDeallocate
	case n.GetListenStmt() != nil, n.GetUnlistenStmt() != nil:
		c.Kind = KindListen
	}
	return c
}

// readOnlySelect: no SELECT INTO (it creates a table) and no FOR
// UPDATE/SHARE (row locks), at any level of a set operation or CTE; a
// data-modifying CTE (WITH x AS (DELETE …)) makes the whole statement a
// write.
func readOnlySelect(s *pg.SelectStmt) bool {
	if s == nil {
		return true
	}
	if s.IntoClause != nil || len(s.LockingClause) > 0 {
		return false
	}
	if w := s.WithClause; w != nil {
		for _, cte := range w.Ctes {
			q := cte.GetCommonTableExpr().GetCtequery()
			if q == nil || q.GetSelectStmt() == nil || !readOnlySelect(q.GetSelectStmt()) {
				return false
			}
		}
	}
	return readOnlySelect(s.Larg) && readOnlySelect(s.Rarg)
}

// nodeName is the parse node's type name (CreateStmt, CopyStmt…).
func nodeName(n *pg.Node) string {
	if n == nil || n.Node == nil {
		return "unknown statement"
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", n.Node), "*pg_query.Node_")
}
