package translate

import (
	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/ast"
	"tsgate/translate/target"
	"tsgate/translate/types"
)

// resolveDivision decides every OpPgDiv in q — PostgreSQL's / whose
// operands the front end could not type by their form — from the columns'
// stored types: integer / integer becomes OpIntDiv, anything fractional
// OpDiv. Column types are trusted only when every column the query can
// name comes from a measurement (no derived table, CTE or subquery whose
// output columns could shadow one); what stays unknown is refused, never
// guessed.
func resolveDivision(q ast.Query, schema target.Schema) error {
	var pending []*ast.Binary
	derived := false
	var tables []*ast.Table
	ast.Inspect(q, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Binary:
			if n.Op == ast.OpPgDiv {
				pending = append(pending, n)
			}
		case *ast.Table:
			tables = append(tables, n)
		case *ast.SubqueryTable, *ast.Subquery, *ast.InSubquery, *ast.Exists, *ast.With, *ast.SetOp:
			derived = true
		}
		return true
	})
	if len(pending) == 0 {
		return nil
	}
	cols := map[string]types.PGNumber{"time": types.PGUnknown}
	if !derived && schema != nil {
		for _, t := range tables {
			infos, ok := schema.Columns(t.Schema, t.Name)
			if !ok {
				continue
			}
			for _, c := range infos {
				k := types.PGUnknown
				switch {
				case c.Tag:
				case c.Type == model.TypeInt:
					k = types.PGInt
				case c.Type == model.TypeFloat:
					k = types.PGFrac
				}
				if old, seen := cols[c.Name]; seen && old != k {
					k = types.PGUnknown
				}
				cols[c.Name] = k
			}
		}
	}
	for _, b := range pending {
		kindOfPG(b, cols)
		if b.Op == ast.OpPgDiv {
			return &errs.Error{Code: errs.Unsupported, Position: b.Span.Start + 1,
				Msg:  "division of operands whose types tsgate cannot tell: PostgreSQL's / truncates integers, other targets do not",
				Hint: "cast an operand: CAST(x AS double precision) / y for true division, or use div(x, y)"}
		}
	}
	return nil
}

// kindOfPG is e's number class in PostgreSQL, resolving the OpPgDiv
// operators inside it on the way.
func kindOfPG(e ast.Expr, cols map[string]types.PGNumber) types.PGNumber {
	switch e := e.(type) {
	case *ast.ColumnRef:
		return cols[e.Name]
	case *ast.Unary:
		if e.Op == ast.Neg {
			return kindOfPG(e.X, cols)
		}
	case *ast.Agg:
		switch e.Kind {
		case ast.AggCount:
			return types.PGInt
		case ast.AggSum:
			// sum(bigint) is numeric, sum(double precision) double, but
			// sum(smallint) and sum(integer) are bigint: an integer.
			switch kindOfPG(e.Arg, cols) {
			case types.PGFrac:
				return types.PGFrac
			case types.PGInt:
				switch bigint, known := types.PGBigint(e.Arg); {
				case !known:
					return types.PGUnknown
				case bigint:
					return types.PGFrac
				}
				return types.PGInt
			}
		case ast.AggMin, ast.AggMax:
			return kindOfPG(e.Arg, cols)
		case ast.AggAvg, ast.AggStddevPop, ast.AggStddevSamp, ast.AggVarPop, ast.AggVarSamp,
			ast.AggMedian, ast.AggPercentileCont:
			if kindOfPG(e.Arg, cols) != types.PGUnknown {
				return types.PGFrac
			}
		}
	case *ast.Func:
		if len(e.Args) == 0 {
			return types.PGUnknown
		}
		switch e.Name {
		case "abs":
			return kindOfPG(e.Args[0], cols)
		case "floor", "ceil", "ceiling", "round", "trunc", "sqrt", "cbrt", "ln", "exp", "power", "pow":
			// No integer overloads: integers go to double precision
			// (numeric for round/trunc), fractional either way.
			if kindOfPG(e.Args[0], cols) != types.PGUnknown {
				return types.PGFrac
			}
		}
	case *ast.Binary:
		l, r := kindOfPG(e.L, cols), kindOfPG(e.R, cols)
		switch e.Op {
		case ast.OpDiv:
			return types.PGFrac
		case ast.OpIntDiv:
			return types.PGInt
		case ast.OpAdd, ast.OpSub, ast.OpMul, ast.OpMod, ast.OpPgDiv:
			switch {
			case l == types.PGUnknown || r == types.PGUnknown:
				return types.PGUnknown
			case e.Op == ast.OpPgDiv && l == types.PGInt && r == types.PGInt:
				e.Op = ast.OpIntDiv
				return types.PGInt
			case e.Op == ast.OpPgDiv:
				e.Op = ast.OpDiv
				return types.PGFrac
			case l == types.PGInt && r == types.PGInt:
				return types.PGInt
			}
			return types.PGFrac
		}
	}
	return types.PGForm(e)
}
