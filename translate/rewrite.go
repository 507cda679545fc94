package translate

import (
	"tsgate/translate/ast"
	"tsgate/translate/sqltime"
	"tsgate/translate/target"
)

// Rewrite normalizes a query before checking: string literals compared
// with the time column become TimestampLit instants on the µs grid, by
// the source dialect's rule — DuckDB (Arc SQL) drops digits finer than a
// microsecond, PostgreSQL rounds them half to even — so every target sees
// the instant the source engine would have compared with (a nanosecond
// literal from memtrace would otherwise be read differently by each
// engine).
func Rewrite(q ast.Query, src Source) error {
	ast.RewriteExprs(q, func(e ast.Expr) ast.Expr {
		switch e := e.(type) {
		case *ast.Binary:
			if !e.Op.IsComparison() {
				return e
			}
			if isTime(e.L) {
				if r, ok := instant(e.Op, e.R, src); ok {
					if r.lit != nil {
						return r.lit
					}
					e.R = r.ts
				}
			} else if isTime(e.R) {
				if r, ok := instant(e.Op.Flip(), e.L, src); ok {
					if r.lit != nil {
						return r.lit
					}
					e.L = r.ts
				}
			}
		case *ast.RegexMatch:
			// A full match of a constant pattern is a match anywhere of
			// the anchored pattern, which every target can say. The group
			// keeps an alternation inside the anchors; a plain group, as
			// (?:…) is refused by the regex safety check, and the pattern
			// has no backreferences (refused too) for it to renumber.
			if l, ok := e.Pattern.(*ast.Literal); ok && e.Full && l.Kind == ast.LitString {
				e.Pattern = &ast.Literal{Span: l.Span, Kind: ast.LitString, Text: "^(" + l.Text + ")$"}
				e.Full = false
			}
		case *ast.InList:
			// Each constant is an equality with the time column: the
			// same instant as a comparison's, by the same rule.
			if isTime(e.X) {
				for i, el := range e.List {
					if r, ok := instant(ast.OpEq, el, src); ok && r.lit == nil {
						e.List[i] = r.ts
					}
				}
			}
		case *ast.Between:
			if isTime(e.X) {
				lo, ok1 := instant(ast.OpGe, e.Lo, src)
				hi, ok2 := instant(ast.OpLe, e.Hi, src)
				if ok1 && ok2 && lo.lit == nil && hi.lit == nil {
					e.Lo, e.Hi = lo.ts, hi.ts
				}
			}
		}
		return e
	})
	return nil
}

func isTime(e ast.Expr) bool {
	c, ok := e.(*ast.ColumnRef)
	return ok && c.Name == "time"
}

type resolved struct {
	ts  *ast.TimestampLit
	lit *ast.Literal // the comparison's constant answer
}

func instant(_ ast.BinaryOp, e ast.Expr, src Source) (resolved, bool) {
	lit, ok := e.(*ast.Literal)
	if !ok || lit.Kind != ast.LitString {
		return resolved{}, false
	}
	t, err := sqltime.ParseTimestamp(lit.Text)
	if err != nil {
		return resolved{}, false
	}
	us := t.Micros() // DuckDB: the digits past the microsecond are dropped
	if src == FromPostgres {
		// PostgreSQL rounds to the nearest microsecond, ties to even
		// (rint on the fraction).
		if rem := t.Nanos % 1000; rem > 500 || rem == 500 && us%2 != 0 {
			us++
		}
	}
	return resolved{ts: &ast.TimestampLit{Span: lit.Span, Micros: us}}, true
}

// Check refuses constructs outside the target's capabilities, one message
// shape for every target: the construct, the target, the target's hint.
func Check(q ast.Query, gen target.Generator) error {
	caps := gen.Caps()
	var err error
	need := func(c target.Caps, n ast.Node) bool {
		if caps&c == 0 && err == nil {
			err = target.Refuse(gen.Name(), target.CapName(c), n, gen.Hint(c))
		}
		return err == nil
	}
	ast.Inspect(q, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Select:
			if n.With != nil {
				need(target.CapCTE, n.With)
			}
			if n.Having != nil {
				need(target.CapHaving, n.Having)
			}
			if n.Distinct {
				need(target.CapDistinct, n)
			}
			if len(n.DistinctOn) > 0 {
				need(target.CapDistinctOn, n.DistinctOn[0])
			}
			if n.Offset != nil {
				need(target.CapOffset, n.Offset)
			}
			if len(n.From) > 1 {
				need(target.CapJoin, n.From[1])
			}
		case *ast.SetOp:
			if n.With != nil {
				need(target.CapCTE, n.With)
			}
			need(target.CapSetOp, n)
			if n.Offset != nil {
				need(target.CapOffset, n.Offset)
			}
		case *ast.Join:
			need(target.CapJoin, n)
			if n.Kind == ast.LeftJoin || n.Kind == ast.RightJoin || n.Kind == ast.FullJoin {
				need(target.CapOuterJoin, n)
			}
		case *ast.SubqueryTable, *ast.Subquery, *ast.InSubquery, *ast.Exists:
			need(target.CapSubquery, n)
		case *ast.Window:
			need(target.CapWindow, n)
		case *ast.Case:
			need(target.CapCase, n)
		case *ast.Like:
			if n.CaseInsensitive {
				need(target.CapILike, n)
			}
		case *ast.RegexMatch:
			need(target.CapRegex, n)
			if n.Full {
				need(target.CapRegexFull, n)
			}
		case *ast.Param:
			need(target.CapParams, n)
		}
		return err == nil
	})
	return err
}

// CheckSemantics refuses, for a pg-wire query (env.PostgresSemantics) and
// a target that computes otherwise (no CapPostgresSemantics), every
// construct whose answer PostgreSQL computes differently from that
// target: arithmetic (PostgreSQL raises on overflow and division by zero),
// numeric literals (exact in PostgreSQL), casts, sums and averages (their
// overflow and numeric results), the functions whose edge cases differ
// (round, substr, math). The refusal sends the query to the gateway's
// DuckDB, which computes it as PostgreSQL does from the backend's rows.
// Comparisons, time arithmetic and bucketing, counts, min and max pass.
func CheckSemantics(q ast.Query, gen target.Generator, env *target.Env) error {
	if env == nil || !env.PostgresSemantics || gen.Caps()&target.CapPostgresSemantics != 0 {
		return nil
	}
	var err error
	refuse := func(construct string, n ast.Node) {
		err = target.Refuse(gen.Name(), construct+" under PostgreSQL's semantics", n,
			"PostgreSQL raises errors or types the result where this backend computes otherwise; the gateway computes it from the rows")
	}
	ast.Inspect(q, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Binary:
			if arithmetic(n.Op) && !timeOperand(n.L) && !timeOperand(n.R) {
				refuse("arithmetic ("+n.Op.String()+")", n)
			}
		case *ast.Literal:
			if n.Kind == ast.LitNumber {
				refuse("the numeric constant "+n.Text, n)
			}
		case *ast.Unary:
			if n.Op == ast.Neg {
				if _, lit := n.X.(*ast.Literal); !lit {
					refuse("negation", n)
				}
			}
		case *ast.Cast:
			switch n.Type.Kind {
			case ast.TypeTimestamp, ast.TypeTimestampTZ, ast.TypeDate, ast.TypeInterval:
			default:
				refuse("CAST to "+n.Type.Kind.String(), n)
			}
		case *ast.Agg:
			switch n.Kind {
			case ast.AggSum, ast.AggAvg, ast.AggStddevPop, ast.AggStddevSamp, ast.AggVarPop, ast.AggVarSamp,
				ast.AggMedian, ast.AggPercentileCont, ast.AggPercentileDisc, ast.AggApproxQuantile:
				refuse(n.Kind.String(), n)
			}
		case *ast.Func:
			switch n.Name {
			case "round", "substr", "substring", "greatest", "least", "length", "char_length", "abs",
				"sqrt", "cbrt", "ln", "log", "log10", "exp", "power", "pow", "trunc", "floor", "ceil", "ceiling":
				refuse(n.Name+"()", n)
			}
		case *ast.Extract:
			refuse("EXTRACT", n)
		case *ast.TimeBucket:
			if n.Result == ast.BucketEpochSeconds {
				return false // Grafana's epoch grouping: whole seconds either way
			}
		}
		return err == nil
	})
	return err
}

func arithmetic(op ast.BinaryOp) bool {
	switch op {
	case ast.OpAdd, ast.OpSub, ast.OpMul, ast.OpDiv, ast.OpIntDiv, ast.OpMod, ast.OpPgDiv:
		return true
	}
	return false
}

// timeOperand: a side of time arithmetic (now() - INTERVAL '1 hour').
func timeOperand(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Now, *ast.Interval, *ast.TimestampLit:
		return true
	case *ast.ColumnRef:
		return e.Name == "time"
	}
	return false
}
