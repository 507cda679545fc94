package plan

import (
	"math/big"
	"regexp"
	"strconv"

	"tsgate/model"
	"tsgate/translate/ast"
	"tsgate/translate/sqlgen"
	"tsgate/translate/target"
)

// WHERE without its time bounds: the conditions the target evaluates,
// with NOT pushed down to column-operator-constant comparisons.

func conjuncts(e ast.Expr, out []ast.Expr) []ast.Expr {
	if b, ok := e.(*ast.Binary); ok && b.Op == ast.OpAnd {
		return conjuncts(b.R, conjuncts(b.L, out))
	}
	return append(out, e)
}

func (a *analyzer) where(e ast.Expr) error {
	if e == nil {
		return nil
	}
	var rest Pred
	for _, c := range conjuncts(e, nil) {
		done, err := a.timeCond(c)
		if err != nil {
			return err
		}
		if done {
			continue
		}
		p, err := a.cond(c, false)
		if err != nil {
			return err
		}
		rest = and(rest, p)
	}
	if rest == constFalse {
		a.p.Never = true
		rest = nil
	}
	if rest == constTrue {
		rest = nil
	}
	a.p.Where = rest
	return nil
}

// Constant predicates, folded away before generation.
type constPred bool

func (constPred) pred() {}

var (
	constTrue  Pred = constPred(true)
	constFalse Pred = constPred(false)
)

func and(l, r Pred) Pred {
	switch {
	case l == nil || l == constTrue:
		return r
	case r == nil || r == constTrue:
		return l
	case l == constFalse || r == constFalse:
		return constFalse
	}
	return &And{L: l, R: r}
}

func or(l, r Pred) Pred {
	switch {
	case l == constFalse:
		return r
	case r == constFalse:
		return l
	case l == constTrue || r == constTrue:
		return constTrue
	}
	return &Or{L: l, R: r}
}

var negOp = map[ast.BinaryOp]ast.BinaryOp{
	ast.OpEq: ast.OpNe, ast.OpNe: ast.OpEq, ast.OpLt: ast.OpGe, ast.OpGe: ast.OpLt, ast.OpGt: ast.OpLe, ast.OpLe: ast.OpGt,
}

var cmpOp = map[ast.BinaryOp]Op{ast.OpEq: Eq, ast.OpNe: Ne, ast.OpLt: Lt, ast.OpLe: Le, ast.OpGt: Gt, ast.OpGe: Ge}

// cond converts a condition, negated when neg, pushing NOT to the leaves.
func (a *analyzer) cond(e ast.Expr, neg bool) (Pred, error) {
	switch e := e.(type) {
	case *ast.Binary:
		switch e.Op {
		case ast.OpAnd, ast.OpOr:
			l, err := a.cond(e.L, neg)
			if err != nil {
				return nil, err
			}
			r, err := a.cond(e.R, neg)
			if err != nil {
				return nil, err
			}
			if (e.Op == ast.OpAnd) != neg {
				return and(l, r), nil
			}
			return or(l, r), nil
		}
		if !e.Op.IsComparison() {
			break
		}
		if isTimeRef(e.L) || isTimeRef(e.R) {
			return nil, a.refuse("a time condition under OR or NOT", e, "time bounds must be joined to the rest of WHERE by AND")
		}
		op := e.Op
		col, lit := e.L, e.R
		if _, ok := e.L.(*ast.Literal); ok {
			col, lit, op = e.R, e.L, op.Flip()
		}
		if neg {
			op = negOp[op]
		}
		return a.leaf(e, col, cmpOp[op], lit, "")
	case *ast.Unary:
		if e.Op == ast.Not {
			return a.cond(e.X, !neg)
		}
	case *ast.Literal:
		if e.Kind == ast.LitBool {
			if e.Bool != neg {
				return constTrue, nil
			}
			return constFalse, nil
		}
	case *ast.InList:
		if err := a.mixedNumbers(e, e.X, e.List...); err != nil {
			return nil, err
		}
		var out Pred
		not := e.Not != neg
		for _, x := range e.List {
			if l, ok := x.(*ast.Literal); ok && l.Kind == ast.LitNull {
				return nil, a.refuse("NULL in an IN list", x, "IN with NULL is never true in SQL; remove the NULL")
			}
			op := Eq
			if not {
				op = Ne
			}
			p, err := a.leaf(e, e.X, op, x, "")
			if err != nil {
				return nil, err
			}
			if not {
				out = and(out, p)
			} else if out == nil {
				out = p
			} else {
				out = or(out, p)
			}
		}
		return out, nil
	case *ast.Between:
		if err := a.mixedNumbers(e, e.X, e.Lo, e.Hi); err != nil {
			return nil, err
		}
		// x BETWEEN lo AND hi is x >= lo AND x <= hi; NOT BETWEEN is
		// x < lo OR x > hi.
		lo, hi, join := Ge, Le, and
		if e.Not != neg {
			lo, hi, join = Lt, Gt, or
		}
		l, err := a.leaf(e, e.X, lo, e.Lo, "")
		if err != nil {
			return nil, err
		}
		r, err := a.leaf(e, e.X, hi, e.Hi, "")
		if err != nil {
			return nil, err
		}
		return join(l, r), nil
	case *ast.Like:
		lit, ok := e.Pattern.(*ast.Literal)
		if !ok || lit.Kind != ast.LitString {
			return nil, a.refuse("LIKE with a non-constant pattern", e, "")
		}
		re, ok := LikeRegex(lit.Text, e.Escape)
		if !ok {
			return nil, a.refuse("a LIKE pattern ending in its escape character", e, "")
		}
		op := Match
		if e.Not != neg {
			op = NotMatch
		}
		return a.leaf(e, e.X, op, nil, re)
	case *ast.RegexMatch:
		if e.CaseInsensitive {
			return nil, a.refuse("case-insensitive regular-expression matching", e, "Go's (?i) folds case differently from the SQL engines")
		}
		if why := sqlgen.CheckRegex(e.Pattern); why != "" {
			return nil, a.refuse("regular expression with "+why, e, "engines disagree on this syntax")
		}
		lit := e.Pattern.(*ast.Literal)
		if _, err := regexp.Compile(lit.Text); err != nil {
			return nil, a.refuse("a regular expression RE2 rejects", e, err.Error())
		}
		a.note("regular expression", "evaluated by Go's RE2 engine; PostgreSQL (ARE) and RE2 agree on the syntax used here")
		op := Match
		if e.Not != neg {
			op = NotMatch
		}
		return a.leaf(e, e.X, op, nil, lit.Text)
	case *ast.IsNull:
		return nil, a.refuse("IS [NOT] NULL", e, "InfluxDB has no NULL test in WHERE: an absent tag reads as '' and an absent field is simply not there")
	}
	return nil, a.refuse("this condition ("+e.String()+")", e, "the condition must compare a tag or field with a constant")
}

// leaf builds one comparison, checking the column's kind against the
// operator and the constant.
func (a *analyzer) leaf(n ast.Node, colExpr ast.Expr, op Op, litExpr ast.Expr, re string) (Pred, error) {
	cr, ok := colExpr.(*ast.ColumnRef)
	if !ok {
		return nil, a.refuse("a condition on an expression ("+colExpr.String()+")", n, "compare a tag or field directly with a constant")
	}
	col, isTime, err := a.column(cr)
	if err != nil {
		return nil, err
	}
	if isTime {
		return nil, a.refuse("a time condition under OR or NOT", n, "time bounds must be joined to the rest of WHERE by AND")
	}
	c := &Cmp{Col: col, Op: op, Regex: printableRegex(re), Nullable: !col.Tag && !col.Required}
	if col.Tag && !col.Required {
		// A point without the tag reads as '': only a condition false for
		// '' treats it as SQL treats NULL (not true).
		lit, ok := litExpr.(*ast.Literal)
		allowed := (op == Eq && ok && lit.Kind == ast.LitString && lit.Text != "") ||
			(op == Match && re != "" && !regexp.MustCompile(re).MatchString(""))
		if !allowed {
			return nil, a.refuse("this condition on tag "+col.Name+", which some points lack", n,
				"InfluxDB reads an absent tag as '', where SQL's NULL fails every condition; the gateway computes it")
		}
	}
	what := "field"
	if col.Tag {
		what = "tag"
	}
	if op == Match || op == NotMatch {
		if !col.Tag && col.Type != model.TypeString {
			return nil, a.refuse("pattern matching on the non-string "+what+" "+col.Name, n, "")
		}
		return c, nil
	}
	lit, ok := litExpr.(*ast.Literal)
	if !ok {
		return nil, a.refuse("comparing "+what+" "+col.Name+" with "+litExpr.String(), n, "compare with a constant")
	}
	c.Lit = lit
	str := col.Tag || col.Type == model.TypeString
	switch {
	case str:
		if lit.Kind != ast.LitString {
			return nil, a.refuse("comparing the string "+what+" "+col.Name+" with a non-string", n, "")
		}
		if op != Eq && op != Ne {
			return nil, a.refuse("ordering comparison on the string "+what+" "+col.Name, n, "use =, <>, LIKE or IN")
		}
	case col.Type == model.TypeBool:
		if lit.Kind != ast.LitBool || (op != Eq && op != Ne) {
			return nil, a.refuse("this comparison on the boolean field "+col.Name, n, "use = true or = false")
		}
		if !col.Required {
			// InfluxQL evaluates an absent boolean as false, so `= false`
			// would match points that lack the field.
			return nil, a.refuse("comparing the boolean field "+col.Name+", which may be absent", n, "InfluxQL treats an absent boolean as false; mark the field Required in the schema if every point has it")
		}
	default: // numeric field
		if lit.Kind != ast.LitInt && lit.Kind != ast.LitNumber {
			return nil, a.refuse("comparing the numeric field "+col.Name+" with a non-number", n, "")
		}
		if lit.Kind == ast.LitNumber {
			if _, err := strconv.ParseFloat(lit.Text, 64); err != nil {
				return nil, a.refuse("the number "+lit.Text, lit, "")
			}
			if col.Type == model.TypeInt || col.Type == model.TypeUint {
				l, err := a.intFieldLiteral(col, lit, n)
				if err != nil {
					return nil, err
				}
				c.Lit = l
			}
		}
		if col.Type == model.TypeUint && lit.Kind == ast.LitInt && lit.Int < 0 {
			return nil, a.refuse("comparing the unsigned field "+col.Name+" with a negative number", n, "")
		}
	}
	return c, nil
}

// mixedNumbers refuses an integer field compared, in one IN list or
// BETWEEN, with both a number written with an exponent (a DOUBLE in
// DuckDB) and other numbers: DuckDB then compares every operand as a
// double (2^53+1 matches 2^53), where InfluxDB compares the integer
// members exactly.
func (a *analyzer) mixedNumbers(n ast.Node, x ast.Expr, vals ...ast.Expr) error {
	c, ok := x.(*ast.ColumnRef)
	if a.pg || !ok {
		return nil
	}
	col, isTime, err := a.column(c)
	if err != nil || isTime || (col.Type != model.TypeInt && col.Type != model.TypeUint) {
		return nil
	}
	float, other := false, false
	for _, v := range vals {
		if u, ok := v.(*ast.Unary); ok && u.Op == ast.Neg {
			v = u.X
		}
		switch l, _ := v.(*ast.Literal); {
		case l == nil:
		case l.IsDouble():
			float = true
		case l.Kind == ast.LitNumber || l.Kind == ast.LitInt:
			other = true
		}
	}
	if float && other {
		return a.refuse("comparing the integer field "+col.Name+" with integers and a float together", n,
			"DuckDB compares every member as a double there; write the numbers alike")
	}
	return nil
}

// intFieldLiteral is the literal to compare the integer field col with
// in place of the number lit. InfluxDB compares an integer with a float
// as float64, which DuckDB and PostgreSQL do only for a number written
// with an exponent in DuckDB; a decimal number (a DECIMAL there, numeric
// in PostgreSQL) compares exactly. Below 2^53 in magnitude the float
// comparison gives the same answer (a larger integer keeps its sign and
// magnitude side as float64); a whole number within int64 is sent as an
// integer; anything else is refused.
func (a *analyzer) intFieldLiteral(col target.ColumnInfo, lit *ast.Literal, n ast.Node) (*ast.Literal, error) {
	if !a.pg && lit.IsDouble() {
		return lit, nil // DuckDB compares as float64 too
	}
	r, ok := new(big.Rat).SetString(lit.Text)
	if !ok {
		return nil, a.refuse("the number "+lit.Text, lit, "")
	}
	if r.IsInt() && r.Num().IsInt64() {
		return &ast.Literal{Span: lit.Span, Kind: ast.LitInt, Int: r.Num().Int64(), Text: r.Num().String()}, nil
	}
	if new(big.Rat).Abs(r).Cmp(new(big.Rat).SetInt64(1<<53)) < 0 {
		return lit, nil
	}
	return nil, a.refuse("comparing the integer field "+col.Name+" with "+lit.Text, n,
		"InfluxDB compares an integer with a fraction as float64, inexact beyond 2^53")
}
