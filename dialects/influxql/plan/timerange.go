package plan

import (
	"tsgate/translate/ast"
)

// The time range: top-level time comparisons in WHERE become the
// query's lower and upper bounds.

func isTimeRef(e ast.Expr) bool {
	c, ok := e.(*ast.ColumnRef)
	return ok && c.Name == "time"
}

// timeCond takes a top-level time comparison into the range.
func (a *analyzer) timeCond(e ast.Expr) (bool, error) {
	switch e := e.(type) {
	case *ast.Binary:
		if !e.Op.IsComparison() {
			return false, nil
		}
		op, other := e.Op, e.R
		if isTimeRef(e.R) && !isTimeRef(e.L) {
			op, other = op.Flip(), e.L
		} else if !isTimeRef(e.L) {
			return false, nil
		}
		b, err := a.instant(other)
		if err != nil {
			return true, err
		}
		switch op {
		case ast.OpGt, ast.OpGe:
			b.Incl = op == ast.OpGe
			return true, a.bound(&a.p.Lower, b, e, true)
		case ast.OpLt, ast.OpLe:
			b.Incl = op == ast.OpLe
			return true, a.bound(&a.p.Upper, b, e, false)
		case ast.OpEq:
			b.Incl = true
			if err := a.bound(&a.p.Lower, b, e, true); err != nil {
				return true, err
			}
			return true, a.bound(&a.p.Upper, b, e, false)
		}
		return true, a.refuse("time "+op.String()+" …", e, "compare time with <, <=, >, >= or =")
	case *ast.Between:
		if !isTimeRef(e.X) {
			return false, nil
		}
		if e.Not {
			return true, a.refuse("time NOT BETWEEN", e, "a time range must be one interval")
		}
		lo, err := a.instant(e.Lo)
		if err != nil {
			return true, err
		}
		hi, err := a.instant(e.Hi)
		if err != nil {
			return true, err
		}
		lo.Incl, hi.Incl = true, true
		if err := a.bound(&a.p.Lower, lo, e, true); err != nil {
			return true, err
		}
		return true, a.bound(&a.p.Upper, hi, e, false)
	}
	return false, nil
}

// instant reads a time constant: a TimestampLit (the rewrite stage has
// put it on the µs grid), now(), or now() ± a fixed interval.
func (a *analyzer) instant(e ast.Expr) (Bound, error) {
	switch e := e.(type) {
	case *ast.TimestampLit:
		a.note("time literal", "bound is on the µs grid (Arc's precision); InfluxDB keeps ns, so a point written with sub-µs digits directly to InfluxDB can compare differently within 1 µs of the bound")
		return Bound{Set: true, NS: e.Micros * 1000}, nil
	case *ast.Now:
		return Bound{Set: true, Now: true}, nil
	case *ast.Binary:
		if _, ok := e.L.(*ast.Now); ok && (e.Op == ast.OpAdd || e.Op == ast.OpSub) {
			iv, ok := e.R.(*ast.Interval)
			if !ok {
				break
			}
			if !iv.Fixed() {
				return Bound{}, a.refuse("an interval with months", iv, "a month has no fixed length; use days or hours")
			}
			d := iv.FixedMicros() * 1000
			if e.Op == ast.OpSub {
				d = -d
			}
			return Bound{Set: true, Now: true, NS: d}, nil
		}
	}
	return Bound{}, a.refuse("comparing time with "+e.String(), e, "compare time with a timestamp literal or now() ± an interval")
}

// bound merges b into *dst: two absolute bounds keep the tighter one;
// a relative and another bound cannot be ordered at translation time.
func (a *analyzer) bound(dst *Bound, b Bound, n ast.Node, lower bool) error {
	if !dst.Set {
		*dst = b
		return nil
	}
	if dst.Now || b.Now {
		return a.refuse("two time bounds on one side", n, "give at most one lower and one upper time bound")
	}
	// Compare as half-open integers: an exclusive lower t is inclusive t+1.
	key := func(x Bound) int64 {
		switch {
		case lower && !x.Incl:
			return x.NS + 1
		case !lower && x.Incl:
			return x.NS + 1
		}
		return x.NS
	}
	if lower == (key(b) > key(*dst)) {
		*dst = b
	}
	return nil
}
