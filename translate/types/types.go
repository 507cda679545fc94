package types

import (
	"math"

	"strings"

	"tsgate/model"
	"tsgate/translate/ast"
)

// Kind is a value's type class in the reference engine (DuckDB), as the
// generators need it to decide per construct and type: whether a target
// computes the same value (integer sums overflow in some engines, a
// float % is undefined in others), or must be told the result type
// (PostgreSQL's avg of integers is numeric, DuckDB's a double).
type Kind uint8

const (
	KUnknown Kind = iota
	KInt          // BIGINT and narrower
	KHugeInt      // DuckDB's sum of integers (HUGEINT): exact digits
	KFloat        // DOUBLE
	KDecimal      // DECIMAL: fractional literals (0.1 is exact in DuckDB)
	KString
	KBool
	KTime
	KInterval
)

// Numeric reports the number kinds.
func (k Kind) Numeric() bool { return k == KInt || k == KHugeInt || k == KFloat || k == KDecimal }

// Exact reports number kinds without rounding (integers and decimals).
func (k Kind) Exact() bool { return k == KInt || k == KHugeInt || k == KDecimal }

// Env is what Of needs beyond the expression: the semantics it is read
// under and the columns' kinds.
type Env struct {
	// Postgres reads e as PostgreSQL computes it (pg wire); otherwise as
	// DuckDB, Arc's engine, does.
	Postgres bool
	// Column types a column reference; nil types every one KUnknown.
	Column func(*ast.ColumnRef) Kind
}

// FromField is a stored column type's kind.
func FromField(t model.FieldType) Kind {
	switch t {
	case model.TypeInt, model.TypeUint:
		return KInt
	case model.TypeFloat:
		return KFloat
	case model.TypeString:
		return KString
	case model.TypeBool:
		return KBool
	case model.TypeTime:
		return KTime
	}
	return KUnknown
}

// Of infers e's type class. What it cannot tell is KUnknown, which every
// caller treats as "could be anything".
func Of(e ast.Expr, env Env) Kind {
	switch e := e.(type) {
	case *ast.ColumnRef:
		if env.Column == nil {
			return KUnknown
		}
		return env.Column(e)
	case *ast.Literal:
		switch e.Kind {
		case ast.LitInt:
			return KInt
		case ast.LitNumber:
			if e.IsDouble() {
				return KFloat
			}
			if strings.Contains(e.Text, ".") {
				return KDecimal
			}
			return KHugeInt // an integer past int64
		case ast.LitString:
			return KString
		case ast.LitBool:
			return KBool
		}
	case *ast.TimestampLit, *ast.Now, *ast.TimeBucket:
		return KTime
	case *ast.Interval:
		return KInterval
	case *ast.Cast:
		switch e.Type.Kind {
		case ast.TypeSmallInt, ast.TypeInt, ast.TypeBigInt:
			return KInt
		case ast.TypeReal, ast.TypeDouble:
			return KFloat
		case ast.TypeNumeric:
			return KDecimal
		case ast.TypeText, ast.TypeVarchar:
			return KString
		case ast.TypeBool:
			return KBool
		case ast.TypeTimestamp, ast.TypeTimestampTZ, ast.TypeDate:
			return KTime
		case ast.TypeInterval:
			return KInterval
		}
	case *ast.Unary:
		return Of(e.X, env)
	case *ast.Binary:
		l, r := Of(e.L, env), Of(e.R, env)
		switch e.Op {
		case ast.OpAdd, ast.OpSub, ast.OpMul, ast.OpMod:
			switch {
			case l == KUnknown || r == KUnknown:
				return KUnknown
			case l == KFloat || r == KFloat:
				return KFloat
			case l == KDecimal || r == KDecimal:
				return KDecimal
			case l == KTime || r == KTime:
				return KTime
			}
			return KInt
		case ast.OpDiv:
			return KFloat
		case ast.OpIntDiv:
			return KInt
		case ast.OpConcat:
			return KString
		}
		return KBool
	case *ast.IsNull, *ast.Between, *ast.InList, *ast.InSubquery, *ast.Exists, *ast.Like, *ast.RegexMatch:
		return KBool
	case *ast.Extract:
		if env.Postgres {
			return KDecimal // numeric since PostgreSQL 14
		}
		if e.Field == "epoch" {
			return KFloat
		}
		return KInt
	case *ast.Agg:
		var arg Kind
		if e.Arg != nil {
			arg = Of(e.Arg, env)
		}
		switch e.Kind {
		case ast.AggCount:
			return KInt
		case ast.AggSum:
			if arg == KInt || arg == KHugeInt {
				return KHugeInt
			}
			return arg
		case ast.AggMin, ast.AggMax, ast.AggFirst, ast.AggLast:
			return arg
		case ast.AggBoolAnd, ast.AggBoolOr:
			return KBool
		}
		return KFloat // avg, stddev, variance, median, quantiles
	case *ast.Func:
		switch e.Name {
		case "lower", "upper", "trim", "ltrim", "rtrim", "substr", "substring", "concat", "replace", "left", "right", "lpad", "rpad", "reverse":
			return KString
		case "length", "char_length", "strlen", "epoch_ns", "epoch_us", "epoch_ms":
			return KInt
		case "abs", "sign", "ceil", "ceiling", "floor", "round", "trunc":
			if len(e.Args) > 0 {
				return Of(e.Args[0], env)
			}
		case "coalesce", "nullif", "greatest", "least":
			var k Kind
			for _, a := range e.Args {
				ak := Of(a, env)
				switch {
				case k == KUnknown:
					k = ak
				case ak != k && ak != KUnknown:
					if k.Numeric() && ak.Numeric() {
						if k == KFloat || ak == KFloat {
							k = KFloat
						} else if k == KDecimal || ak == KDecimal {
							k = KDecimal
						}
						continue
					}
					return KUnknown
				}
			}
			return k
		case "sqrt", "ln", "log", "log10", "log2", "exp", "power", "pow", "pi", "random":
			return KFloat
		}
	case *ast.Case:
		for _, w := range e.Whens {
			if k := Of(w.Result, env); k != KUnknown {
				return k
			}
		}
		if e.Else != nil {
			return Of(e.Else, env)
		}
	}
	return KUnknown
}

// PGBigint reports whether an integer expression (its divisions
// resolved) is a bigint in PostgreSQL rather than a smallint or an
// integer; known is false when tsgate cannot tell. Stored integer fields
// are bigint columns. The width decides the type of a sum: sum(smallint)
// and sum(integer) are bigint, sum(bigint) numeric.
func PGBigint(e ast.Expr) (bigint, known bool) {
	switch e := e.(type) {
	case *ast.ColumnRef:
		return true, true
	case *ast.Literal:
		if e.Kind == ast.LitInt {
			return e.Int < math.MinInt32 || e.Int > math.MaxInt32, true
		}
	case *ast.Cast:
		switch e.Type.Kind {
		case ast.TypeBigInt:
			return true, true
		case ast.TypeInt, ast.TypeSmallInt:
			return false, true
		}
	case *ast.Unary:
		return PGBigint(e.X)
	case *ast.Agg:
		switch e.Kind {
		case ast.AggCount:
			return true, true
		case ast.AggMin, ast.AggMax:
			if e.Arg != nil {
				return PGBigint(e.Arg)
			}
		}
	case *ast.Func:
		if e.Name == "abs" && len(e.Args) == 1 {
			return PGBigint(e.Args[0])
		}
	case *ast.Binary:
		switch e.Op {
		case ast.OpAdd, ast.OpSub, ast.OpMul, ast.OpMod, ast.OpIntDiv:
			l, lk := PGBigint(e.L)
			r, rk := PGBigint(e.R)
			return l || r, lk && rk
		}
	}
	return false, false
}

// PGNumber is a value's number class in PostgreSQL as its / needs it:
// integer operands on both sides truncate, anything fractional divides
// truly.
type PGNumber uint8

const (
	PGUnknown PGNumber = iota
	PGInt              // smallint, integer, bigint
	PGFrac             // double precision, real, numeric
)

// PGForm is the number class that e's form alone tells (a number
// literal, a cast, an EXTRACT), or PGUnknown. The front end
// (translate/pgparse) and the translator's resolution of / build their
// inferences on it, so both read these forms alike.
func PGForm(e ast.Expr) PGNumber {
	switch e := e.(type) {
	case *ast.Literal:
		switch e.Kind {
		case ast.LitInt:
			return PGInt
		case ast.LitNumber:
			return PGFrac
		}
	case *ast.Cast:
		switch k := e.Type.Kind; {
		case k.IsInteger():
			return PGInt
		case k == ast.TypeDouble || k == ast.TypeReal || k == ast.TypeNumeric:
			return PGFrac
		}
	case *ast.Extract:
		return PGFrac // numeric since PostgreSQL 14
	}
	return PGUnknown
}
