package influxql

import (
	"context"
	"strings"
	"time"

	"tsgate/errs"
	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// DeleteRows deletes m's points of db for which where holds with
// InfluxQL's DELETE. InfluxDB deletes by series and time only: the
// condition may compare tags with strings and time with instants, joined
// by AND and OR; a condition on a field cannot be expressed and is
// refused (0A000).
func (b *Backend) DeleteRows(ctx context.Context, db, m string, where ast.Expr) error {
	cols, ok := b.Schema(db).Columns("", m)
	if !ok {
		return nil
	}
	tags := map[string]bool{}
	for _, c := range cols {
		if c.Tag {
			tags[c.Name] = true
		}
	}
	var sb strings.Builder
	if err := deleteCond(&sb, where, tags); err != nil {
		return err
	}
	_, _, err := b.queryAll(ctx, db, "DELETE FROM "+quoteIdent(m)+" WHERE "+sb.String())
	b.Catalog.Invalidate(b.Database(db))
	return err
}

func deleteCond(sb *strings.Builder, e ast.Expr, tags map[string]bool) error {
	refuse := func(n ast.Node) error {
		return target.Refuse("influxql", "a delete by this condition", n,
			"InfluxDB deletes by tag values and time only (DELETE … WHERE tag = 'v' AND time < '…')")
	}
	switch e := e.(type) {
	case *ast.Binary:
		if lit, ok := e.R.(*ast.Literal); ok && e.Op == ast.OpIsNotDistinct && lit.Kind == ast.LitBool && lit.Bool {
			// (cond) IS TRUE deletes exactly what cond deletes: a
			// point whose condition is unknown is kept either way.
			return deleteCond(sb, e.L, tags)
		}
		if e.Op == ast.OpAnd || e.Op == ast.OpOr {
			sb.WriteByte('(')
			if err := deleteCond(sb, e.L, tags); err != nil {
				return err
			}
			sb.WriteString(" " + e.Op.String() + " ")
			if err := deleteCond(sb, e.R, tags); err != nil {
				return err
			}
			sb.WriteByte(')')
			return nil
		}
		if !e.Op.IsComparison() {
			return refuse(e)
		}
		col, ok := e.L.(*ast.ColumnRef)
		if !ok {
			return refuse(e)
		}
		op := e.Op.String()
		switch {
		case col.Name == "time":
			ts, ok := e.R.(*ast.TimestampLit)
			if !ok || e.Op == ast.OpNe {
				return refuse(e)
			}
			sb.WriteString("time " + op + " '" + time.UnixMicro(ts.Micros).UTC().Format(time.RFC3339Nano) + "'")
		case tags[col.Name]:
			lit, ok := e.R.(*ast.Literal)
			if !ok || lit.Kind != ast.LitString || (e.Op != ast.OpEq && e.Op != ast.OpNe) {
				return refuse(e)
			}
			if e.Op == ast.OpNe {
				op = "!="
			}
			sb.WriteString(quoteIdent(col.Name) + " " + op + " " + quoteString(lit.Text))
		default:
			return refuse(e)
		}
		return nil
	}
	return refuse(e)
}

// quoteString quotes an InfluxQL string literal.
func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}

// DropDatabase drops db.
func (b *Backend) DropDatabase(ctx context.Context, db string) error {
	_, _, err := b.queryAll(ctx, "", "DROP DATABASE "+quoteIdent(b.Database(db)))
	b.kmu.Lock()
	delete(b.dbs, b.Database(db))
	b.kmu.Unlock()
	b.Catalog.Invalidate(b.Database(db))
	if err != nil {
		return errs.Wrap(errs.CodeOf(err), err, "influxdb: drop database: "+errs.As(err).Msg)
	}
	return nil
}
