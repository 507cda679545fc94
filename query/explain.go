package query

import (
	"context"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate"
	"tsgate/translate/sqllex"
)

// Explain answers EXPLAIN <query> on a backend tsgate translates for:
// the plan it would run — pushed down whole, or split into pulls and a
// local finish — one line per row in a column named QUERY PLAN, as
// PostgreSQL names it, without running anything. ok is false when sql
// is not an EXPLAIN. EXPLAIN ANALYZE would run the query and is refused.
// On the embedded store EXPLAIN is DuckDB's own and not answered here.
func (p *Pipeline) Explain(ctx context.Context, db, sql string, src translate.Source) (rows model.Rows, ok bool, err error) {
	if p.identity && src == translate.FromArc {
		return nil, false, nil
	}
	// Only a statement that starts with the keyword pays for the parse.
	if t, ok := sqllex.New(sql, sqllex.Postgres).Next(); !ok || !t.Is(sql, "explain") {
		return nil, false, nil
	}
	tree, perr := pg.Parse(sql)
	if perr != nil || len(tree.Stmts) != 1 {
		return nil, false, nil
	}
	ex := tree.Stmts[0].GetStmt().GetExplainStmt()
	if ex == nil {
		return nil, false, nil
	}
	for _, o := range ex.GetOptions() {
		if name := o.GetDefElem().GetDefname(); name != "verbose" && name != "costs" && name != "format" {
			return nil, true, errs.Newf(errs.Unsupported, "EXPLAIN %s is not supported by tsgate: it would run the query on the backend", strings.ToUpper(name))
		}
	}
	tree.Stmts[0].Stmt = ex.GetQuery()
	tree.Stmts[0].StmtLocation, tree.Stmts[0].StmtLen = 0, 0
	inner, derr := pg.Deparse(tree)
	if derr != nil {
		return nil, true, errs.Wrap(errs.Invalid, derr, "EXPLAIN: the query cannot be read back")
	}
	plan, err := p.Plan(ctx, db, inner, src)
	if err != nil {
		return nil, true, err
	}
	out := &model.SliceRows{Cols: []model.ResultColumn{{Name: "QUERY PLAN", Type: model.TypeString}}}
	for _, line := range strings.Split(plan.String(), "\n") {
		out.Data = append(out.Data, []model.Value{model.String(line)})
	}
	return out, true, nil
}
