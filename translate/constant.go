package translate

import (
	"math"
	"strconv"
	"strings"

	"tsgate/model"
	"tsgate/translate/ast"
)

// ConstResult is a query's whole answer, computed by the gateway without
// asking the backend: a SELECT of plain constants and nothing else
// (`SELECT 1`, `SELECT 'ok' AS status`), which drivers, pools and BI
// tools send to validate connections. Answering it here makes it work on
// every backend (InfluxQL and Flux have no FROM-less query at all) and
// costs no backend round trip. Names and types are DuckDB's, the
// reference engine's, so the embedded store and every backend agree; the
// pg wire front end renames columns as PostgreSQL would, as for any query.
type ConstResult struct {
	Columns []model.ResultColumn
	Row     []model.Value
}

// Rows returns a fresh cursor over the one row.
func (c *ConstResult) Rows() model.Rows {
	return &model.SliceRows{Cols: c.Columns, Data: [][]model.Value{c.Row}}
}

// constantSelect recognizes a SELECT whose every part is absent but a
// list of constants the gateway can type exactly: integers that fit
// int64, strings, booleans and NULL. Anything else (a fraction, which
// DuckDB types DECIMAL(p,s); a function; a cast) goes to the backend.
func constantSelect(q ast.Query) (*ConstResult, bool) {
	s, ok := q.(*ast.Select)
	if !ok || s.With != nil || s.Distinct || len(s.DistinctOn) > 0 || len(s.From) > 0 || s.Where != nil ||
		len(s.GroupBy) > 0 || s.Having != nil || len(s.OrderBy) > 0 || s.Limit != nil || s.Offset != nil || len(s.Columns) == 0 {
		return nil, false
	}
	c := &ConstResult{Columns: make([]model.ResultColumn, len(s.Columns)), Row: make([]model.Value, len(s.Columns))}
	for i, item := range s.Columns {
		lit, ok := item.Expr.(*ast.Literal)
		if !ok {
			return nil, false
		}
		col, v, ok := constColumn(lit)
		if !ok {
			return nil, false
		}
		if item.Alias != "" {
			col.Name = item.Alias
		}
		c.Columns[i], c.Row[i] = col, v
	}
	return c, true
}

// constColumn types one literal and names it as DuckDB names an
// unaliased constant (measured: `SELECT true` is "CAST('t' AS BOOLEAN)").
func constColumn(l *ast.Literal) (model.ResultColumn, model.Value, bool) {
	switch l.Kind {
	case ast.LitInt:
		// DuckDB reads -N as the negation of N, so N's type decides:
		// -2147483648 is a BIGINT, and -9223372036854775808 a HUGEINT,
		// which this path does not model.
		if l.Int == math.MinInt64 {
			return model.ResultColumn{}, model.Value{}, false
		}
		typ := "INTEGER"
		if l.Int < -(1<<31-1) || l.Int > 1<<31-1 {
			typ = "BIGINT"
		}
		return model.ResultColumn{Name: strconv.FormatInt(l.Int, 10), Type: model.TypeInt, BackendType: typ}, model.Int(l.Int), true
	case ast.LitString:
		name := "'" + strings.ReplaceAll(l.Text, "'", "''") + "'"
		return model.ResultColumn{Name: name, Type: model.TypeString, BackendType: "VARCHAR"}, model.String(l.Text), true
	case ast.LitBool:
		name := "CAST('f' AS BOOLEAN)"
		if l.Bool {
			name = "CAST('t' AS BOOLEAN)"
		}
		return model.ResultColumn{Name: name, Type: model.TypeBool, BackendType: "BOOLEAN"}, model.Bool(l.Bool), true
	case ast.LitNull:
		return model.ResultColumn{Name: "NULL", Type: model.TypeInt, BackendType: "INTEGER"}, model.Value{}, true
	}
	return model.ResultColumn{}, model.Value{}, false
}

// String renders the result for golden files and `tsgate translate`:
// each column as name, type and value.
func (c *ConstResult) String() string {
	var b strings.Builder
	b.WriteString("answered by the gateway:")
	for i, col := range c.Columns {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(" ")
		b.WriteString(strconv.Quote(col.Name) + " " + col.BackendType + " = ")
		v := c.Row[i]
		switch v.Type {
		case model.TypeInt:
			b.WriteString(strconv.FormatInt(v.I, 10))
		case model.TypeString:
			b.WriteString(strconv.Quote(v.S))
		case model.TypeBool:
			b.WriteString(strconv.FormatBool(v.B))
		default:
			b.WriteString("NULL")
		}
	}
	return b.String()
}
