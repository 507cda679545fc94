package rowop

import (
	"cmp"
	"math"
	"slices"
	"strconv"

	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// DefaultMaxRows bounds how many rows post-processing may hold.
const DefaultMaxRows = 5_000_000

// Apply runs steps over in and returns the result. It closes in.
func Apply(in model.Rows, steps []target.PostStep, maxRows int) (model.Rows, error) {
	defer in.Close()
	if maxRows <= 0 {
		maxRows = DefaultMaxRows
	}
	cols := in.Columns()
	var rows [][]model.Value
	if !limitsToNothing(steps) {
		for {
			v := make([]model.Value, len(cols))
			if !in.Next(v) {
				break
			}
			if len(rows) >= maxRows {
				return nil, errs.Newf(errs.TooLarge, "result needs gateway post-processing over more than %d rows; narrow the query (time range, LIMIT)", maxRows)
			}
			rows = append(rows, v)
		}
	}
	if err := in.Err(); err != nil {
		return nil, err
	}
	s := &set{cols: cols, rows: rows}
	for _, st := range steps {
		if err := s.apply(st); err != nil {
			return nil, err
		}
	}
	return &model.SliceRows{Cols: s.cols, Data: s.rows}, nil
}

// limitsToNothing reports whether steps end in no rows whatever their
// input: a LIMIT 0 with no default row after it. Such a result is not
// read at all, so nothing is evaluated on rows SQL never looks at — as
// in DuckDB and PostgreSQL, where SELECT a - b … LIMIT 0 answers no rows
// even when a - b would overflow on some of them.
func limitsToNothing(steps []target.PostStep) bool {
	nothing := false
	for _, st := range steps {
		switch {
		case st.Kind == target.StepLimit && st.Limit == 0:
			nothing = true
		case st.Kind == target.StepDefaultRow:
			nothing = false
		}
	}
	return nothing
}

type set struct {
	cols []model.ResultColumn
	rows [][]model.Value
	// absent are the current step's columns that may be missing from
	// the input and then read as NULL (PostStep.Absent).
	absent []string
}

func (s *set) index(name string) (int, error) {
	for i, c := range s.cols {
		if c.Name == name {
			return i, nil
		}
	}
	return 0, errs.Newf(errs.Internal, "post step names column %q, which the backend result lacks", name)
}

func (s *set) apply(st target.PostStep) error {
	s.absent = st.Absent
	if len(s.rows) == 0 && st.Kind != target.StepDefaultRow {
		// Nothing to filter, sort or limit. A backend may answer an empty
		// result with no columns at all (InfluxDB does), so a projection
		// only names its columns, typed from the input where it has them.
		if st.Kind == target.StepProject {
			out := make([]model.ResultColumn, len(st.Columns))
			for i, c := range st.Columns {
				out[i] = model.ResultColumn{Name: c.Name, Type: typeOf(c.Expr, s)}
			}
			s.cols = out
		}
		return nil
	}
	switch st.Kind {
	case target.StepFilter:
		ev, err := compile(st.Filter, s)
		if err != nil {
			return err
		}
		kept := s.rows[:0]
		for _, r := range s.rows {
			v, err := ev(r)
			if err != nil {
				return err
			}
			if v.Type == model.TypeBool && v.B {
				kept = append(kept, r)
			}
		}
		s.rows = kept
	case target.StepLimit:
		off := min(max(st.Offset, 0), int64(len(s.rows)))
		s.rows = s.rows[off:]
		if st.Limit >= 0 && st.Limit < int64(len(s.rows)) {
			s.rows = s.rows[:st.Limit]
		}
	case target.StepSort:
		return s.sort(st.Order)
	case target.StepDefaultRow:
		if len(s.rows) > 0 {
			return nil
		}
		return s.project(st.Columns, true)
	case target.StepProject:
		return s.project(st.Columns, false)
	case target.StepEmpty:
		return s.empty(st.Names)
	default:
		return errs.Newf(errs.Internal, "unknown post step kind %d", st.Kind)
	}
	return nil
}

func (s *set) sort(order []*ast.OrderItem) error {
	keys := make([]evalFn, len(order))
	for i, o := range order {
		ev, err := compile(o.Expr, s)
		if err != nil {
			return err
		}
		keys[i] = ev
	}
	// Evaluate keys once per row, then sort stably: SQL leaves ties in an
	// unspecified order and stability keeps the backend's.
	type keyed struct {
		k []model.Value
		r []model.Value
	}
	ks := make([]keyed, len(s.rows))
	for i, r := range s.rows {
		k, err := evalAll(keys, r)
		if err != nil {
			return err
		}
		ks[i] = keyed{k, r}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		for j, o := range order {
			an, bn := a.k[j].IsNull(), b.k[j].IsNull()
			if an || bn {
				if an && bn {
					continue
				}
				// DuckDB's default puts NULLs last in both directions.
				nullsFirst := o.Nulls == ast.NullsFirst
				if an == nullsFirst {
					return -1
				}
				return 1
			}
			c := compareValues(a.k[j], b.k[j])
			if o.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	for i := range ks {
		s.rows[i] = ks[i].r
	}
	return nil
}

func (s *set) project(pc []target.ProjectColumn, single bool) error {
	evs := make([]evalFn, len(pc))
	out := make([]model.ResultColumn, len(pc))
	for i, c := range pc {
		ev, err := compile(c.Expr, s)
		if err != nil {
			return err
		}
		evs[i] = ev
		out[i] = model.ResultColumn{Name: c.Name, Type: typeOf(c.Expr, s)}
	}
	src := s.rows
	if single {
		// One row from constants: the input row is empty.
		src = [][]model.Value{make([]model.Value, len(s.cols))}
	}
	rows := make([][]model.Value, len(src))
	for i, r := range src {
		nr, err := evalAll(evs, r)
		if err != nil {
			return err
		}
		rows[i] = nr
	}
	s.cols, s.rows = out, rows
	return nil
}

type evalFn func(row []model.Value) (model.Value, error)

// evalAll evaluates each of evs on row, in order, into a new row.
func evalAll(evs []evalFn, row []model.Value) ([]model.Value, error) {
	out := make([]model.Value, len(evs))
	for j, ev := range evs {
		v, err := ev(row)
		if err != nil {
			return nil, err
		}
		out[j] = v
	}
	return out, nil
}

func compile(e ast.Expr, s *set) (evalFn, error) {
	switch x := e.(type) {
	case *ast.ColumnRef:
		i, err := s.index(x.Name)
		if err != nil {
			if slices.Contains(s.absent, x.Name) {
				return func([]model.Value) (model.Value, error) { return model.Value{}, nil }, nil
			}
			return nil, err
		}
		return func(r []model.Value) (model.Value, error) { return r[i], nil }, nil
	case *ast.Literal:
		v, err := literal(x)
		if err != nil {
			return nil, err
		}
		return func([]model.Value) (model.Value, error) { return v, nil }, nil
	case *ast.Unary:
		in, err := compile(x.X, s)
		if err != nil {
			return nil, err
		}
		op := x.Op
		return nullIn(in, func(v model.Value) (model.Value, error) { return unary(op, v) }), nil
	case *ast.IsNull:
		in, err := compile(x.X, s)
		if err != nil {
			return nil, err
		}
		not := x.Not
		return func(r []model.Value) (model.Value, error) {
			v, err := in(r)
			return model.Bool(v.IsNull() != not), err
		}, nil
	case *ast.Binary:
		args, err := compileAll(s, x.L, x.R)
		if err != nil {
			return nil, err
		}
		l, rr, op := args[0], args[1], x.Op
		return func(r []model.Value) (model.Value, error) {
			a, err := l(r)
			if err != nil {
				return model.Value{}, err
			}
			b, err := rr(r)
			if err != nil {
				return model.Value{}, err
			}
			return binary(op, a, b)
		}, nil
	case *ast.Func:
		// Only coalesce and nullif: generators use them to read InfluxDB's
		// tags back as written ('' or NULL). Any other function is a
		// generator bug, refused loudly.
		if x.Name == "nullif" && x.Over == nil && len(x.Args) == 2 {
			args, err := compileAll(s, x.Args...)
			if err != nil {
				return nil, err
			}
			l, r := args[0], args[1]
			return func(row []model.Value) (model.Value, error) {
				a, err := l(row)
				if err != nil || a.IsNull() {
					return a, err
				}
				b, err := r(row)
				if err != nil {
					return model.Value{}, err
				}
				if !b.IsNull() && a.Type == b.Type && a.S == b.S && a.I == b.I && a.U == b.U && a.F == b.F && a.B == b.B {
					return model.Value{}, nil
				}
				return a, nil
			}, nil
		}
		if x.Name != "coalesce" || x.Over != nil || len(x.Args) == 0 {
			return nil, errs.Newf(errs.Internal, "post step calls %s(), which the gateway does not evaluate", x.Name)
		}
		args, err := compileAll(s, x.Args...)
		if err != nil {
			return nil, err
		}
		// Like DuckDB, the result has the arguments' common type: an
		// integer beside a double comes back as a double.
		toFloat := typeOf(x, s) == model.TypeFloat
		return func(r []model.Value) (model.Value, error) {
			for _, ev := range args {
				v, err := ev(r)
				if err != nil || !v.IsNull() {
					if toFloat && (v.Type == model.TypeInt || v.Type == model.TypeUint) {
						v = model.Float(v.AsFloat())
					}
					return v, err
				}
			}
			return model.Value{}, nil
		}, nil
	case *ast.Cast:
		in, err := compile(x.X, s)
		if err != nil {
			return nil, err
		}
		t := x.Type
		switch t.Kind {
		case ast.TypeDouble, ast.TypeReal, ast.TypeBigInt, ast.TypeText, ast.TypeVarchar, ast.TypeBool:
		default:
			return nil, errs.Newf(errs.Internal, "post step casts to %s, which the gateway does not evaluate", t.Kind)
		}
		return nullIn(in, func(v model.Value) (model.Value, error) { return castTo(v, t) }), nil
	}
	return nil, errs.Newf(errs.Internal, "post step uses %T, which the gateway does not evaluate", e)
}

// compileAll compiles each of es, in order.
func compileAll(s *set, es ...ast.Expr) ([]evalFn, error) {
	out := make([]evalFn, len(es))
	for i, e := range es {
		ev, err := compile(e, s)
		if err != nil {
			return nil, err
		}
		out[i] = ev
	}
	return out, nil
}

// nullIn applies f to what in yields, a NULL (or an error) passing through
// untouched: the rule of every strict one-operand operation.
func nullIn(in evalFn, f func(model.Value) (model.Value, error)) evalFn {
	return func(r []model.Value) (model.Value, error) {
		v, err := in(r)
		if err != nil || v.IsNull() {
			return model.Value{}, err
		}
		return f(v)
	}
}

func literal(l *ast.Literal) (model.Value, error) {
	switch l.Kind {
	case ast.LitNull:
		return model.Value{}, nil
	case ast.LitBool:
		return model.Bool(l.Bool), nil
	case ast.LitInt:
		return model.Int(l.Int), nil
	case ast.LitNumber:
		f, err := strconv.ParseFloat(l.Text, 64)
		if err != nil {
			return model.Value{}, errs.Newf(errs.Internal, "number %q: %v", l.Text, err)
		}
		return model.Float(f), nil
	case ast.LitString:
		return model.String(l.Text), nil
	}
	return model.Value{}, errs.Newf(errs.Internal, "literal kind %d", l.Kind)
}

func unary(op ast.UnaryOp, v model.Value) (model.Value, error) {
	switch op {
	case ast.Not:
		if v.Type != model.TypeBool {
			return model.Value{}, typeErr("NOT", v)
		}
		return model.Bool(!v.B), nil
	case ast.Neg:
		switch v.Type {
		case model.TypeInt:
			if v.I == math.MinInt64 {
				return model.Value{}, errs.New(errs.Engine, "Out of Range Error: Overflow in negation of INT64")
			}
			return model.Int(-v.I), nil
		case model.TypeFloat:
			return model.Float(-v.F), nil
		case model.TypeUint:
			if v.U > math.MaxInt64 {
				return model.Value{}, errs.New(errs.Engine, "Out of Range Error: Overflow in negation of UINT64")
			}
			return model.Int(-int64(v.U)), nil
		}
		return model.Value{}, typeErr("-", v)
	}
	return model.Value{}, errs.Newf(errs.Internal, "unary operator %d", op)
}

func typeErr(op string, vs ...model.Value) error {
	types := ""
	for i, v := range vs {
		if i > 0 {
			types += ", "
		}
		types += v.Type.String()
	}
	return errs.Newf(errs.Engine, "Binder Error: no operator %s for %s", op, types)
}

// binary evaluates with three-valued logic and DuckDB's arithmetic: / is
// true division (x/0 is ±Inf or NaN as in IEEE), % by zero is NULL,
// integer overflow is an error.
func binary(op ast.BinaryOp, a, b model.Value) (model.Value, error) {
	switch op {
	case ast.OpAnd:
		if (a.Type == model.TypeBool && !a.B) || (b.Type == model.TypeBool && !b.B) {
			return model.Bool(false), nil
		}
		if a.IsNull() || b.IsNull() {
			return model.Value{}, nil
		}
		return model.Bool(a.B && b.B), nil
	case ast.OpOr:
		if (a.Type == model.TypeBool && a.B) || (b.Type == model.TypeBool && b.B) {
			return model.Bool(true), nil
		}
		if a.IsNull() || b.IsNull() {
			return model.Value{}, nil
		}
		return model.Bool(a.B || b.B), nil
	case ast.OpIsDistinct, ast.OpIsNotDistinct:
		same := a.IsNull() && b.IsNull()
		if !a.IsNull() && !b.IsNull() {
			same = compareValues(a, b) == 0
		}
		return model.Bool(same == (op == ast.OpIsNotDistinct)), nil
	}
	if a.IsNull() || b.IsNull() {
		return model.Value{}, nil
	}
	if op.IsComparison() {
		if a.IsNumber() != b.IsNumber() || (!a.IsNumber() && a.Type != b.Type) {
			return model.Value{}, typeErr(op.String(), a, b)
		}
		c := compareValues(a, b)
		var r bool
		switch op {
		case ast.OpEq:
			r = c == 0
		case ast.OpNe:
			r = c != 0
		case ast.OpLt:
			r = c < 0
		case ast.OpLe:
			r = c <= 0
		case ast.OpGt:
			r = c > 0
		case ast.OpGe:
			r = c >= 0
		}
		return model.Bool(r), nil
	}
	if op == ast.OpConcat {
		if a.Type != model.TypeString || b.Type != model.TypeString {
			return model.Value{}, typeErr("||", a, b)
		}
		return model.String(a.S + b.S), nil
	}
	if !a.IsNumber() || !b.IsNumber() {
		return model.Value{}, typeErr(op.String(), a, b)
	}
	if op == ast.OpDiv || a.Type == model.TypeFloat || b.Type == model.TypeFloat || a.Type == model.TypeUint || b.Type == model.TypeUint {
		x, y := a.AsFloat(), b.AsFloat()
		switch op {
		case ast.OpAdd:
			return model.Float(x + y), nil
		case ast.OpSub:
			return model.Float(x - y), nil
		case ast.OpMul:
			return model.Float(x * y), nil
		case ast.OpDiv:
			return model.Float(x / y), nil
		case ast.OpMod:
			if y == 0 && a.Type != model.TypeFloat && b.Type != model.TypeFloat {
				return model.Value{}, nil // unsigned integers: NULL, as DuckDB
			}
			// DOUBLE: IEEE fmod, as DuckDB computes it — NaN for a zero
			// divisor or an infinite dividend.
			return model.Float(math.Mod(x, y)), nil
		case ast.OpIntDiv:
			if y == 0 {
				return model.Value{}, nil
			}
			return model.Float(math.Trunc(x / y)), nil
		}
	}
	x, y := a.I, b.I
	switch op {
	case ast.OpAdd:
		r := x + y
		if (r > x) != (y > 0) {
			return model.Value{}, errs.Newf(errs.Engine, "Out of Range Error: Overflow in addition of INT64 (%d + %d)!", x, y)
		}
		return model.Int(r), nil
	case ast.OpSub:
		r := x - y
		if (r < x) != (y > 0) {
			return model.Value{}, errs.Newf(errs.Engine, "Out of Range Error: Overflow in subtraction of INT64 (%d - %d)!", x, y)
		}
		return model.Int(r), nil
	case ast.OpMul:
		if x != 0 && y != 0 {
			r := x * y
			if r/y != x || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64) {
				return model.Value{}, errs.Newf(errs.Engine, "Out of Range Error: Overflow in multiplication of INT64 (%d * %d)!", x, y)
			}
			return model.Int(r), nil
		}
		return model.Int(0), nil
	case ast.OpMod:
		if y == 0 {
			return model.Value{}, nil
		}
		if y == -1 {
			return model.Int(0), nil
		}
		return model.Int(x % y), nil
	case ast.OpIntDiv:
		if y == 0 {
			return model.Value{}, nil
		}
		if x == math.MinInt64 && y == -1 {
			return model.Value{}, errs.New(errs.Engine, "Out of Range Error: Overflow in division of INT64")
		}
		return model.Int(x / y), nil
	}
	return model.Value{}, errs.Newf(errs.Internal, "binary operator %s", op)
}

// compareValues orders two non-NULL values of comparable types: numbers
// by value (int, uint and float compared exactly where they can be),
// strings bytewise (DuckDB's default collation), false < true, times by
// instant.
func compareValues(a, b model.Value) int {
	switch {
	case a.Type == model.TypeInt && b.Type == model.TypeInt:
		return cmp.Compare(a.I, b.I)
	case a.Type == model.TypeUint && b.Type == model.TypeUint:
		return cmp.Compare(a.U, b.U)
	case a.Type == model.TypeInt && b.Type == model.TypeUint:
		if a.I < 0 {
			return -1
		}
		return cmp.Compare(uint64(a.I), b.U)
	case a.Type == model.TypeUint && b.Type == model.TypeInt:
		return -compareValues(b, a)
	case a.IsNumber() && b.IsNumber():
		return compareFloats(a.AsFloat(), b.AsFloat())
	}
	switch a.Type {
	case model.TypeString, model.TypeText:
		return cmp.Compare(a.S, b.S)
	case model.TypeBool:
		return cmp.Compare(boolInt(a.B), boolInt(b.B))
	case model.TypeTime:
		return cmp.Compare(a.I, b.I)
	}
	return 0
}

// compareFloats orders doubles as DuckDB does: NaN equals NaN and is
// above every other value, +Inf included (Go's cmp.Compare puts it
// first), and -0 equals 0.
func compareFloats(x, y float64) int {
	switch xn, yn := math.IsNaN(x), math.IsNaN(y); {
	case xn && yn:
		return 0
	case xn:
		return 1
	case yn:
		return -1
	}
	return cmp.Compare(x, y)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func castTo(v model.Value, t ast.Type) (model.Value, error) {
	switch t.Kind {
	case ast.TypeDouble, ast.TypeReal:
		switch v.Type {
		case model.TypeInt, model.TypeUint, model.TypeFloat:
			return model.Float(v.AsFloat()), nil
		case model.TypeString:
			f, err := strconv.ParseFloat(v.S, 64)
			if err != nil {
				return model.Value{}, errs.Newf(errs.Engine, "Conversion Error: Could not convert string '%s' to DOUBLE", v.S)
			}
			return model.Float(f), nil
		}
	case ast.TypeBigInt:
		switch v.Type {
		case model.TypeInt:
			return v, nil
		case model.TypeUint:
			if v.U > math.MaxInt64 {
				return model.Value{}, errs.Newf(errs.Engine, "Conversion Error: Type UINT64 with value %d can't be cast to INT64", v.U)
			}
			return model.Int(int64(v.U)), nil
		case model.TypeFloat:
			// DuckDB rounds half away from zero.
			r := math.Round(v.F)
			if math.IsNaN(r) || r < -9.223372036854775808e18 || r >= 9.223372036854775808e18 {
				return model.Value{}, errs.Newf(errs.Engine, "Conversion Error: Type DOUBLE with value %g can't be cast to INT64", v.F)
			}
			return model.Int(int64(r)), nil
		}
	case ast.TypeText, ast.TypeVarchar:
		switch v.Type {
		case model.TypeString, model.TypeText:
			return model.String(v.S), nil
		case model.TypeInt:
			return model.String(strconv.FormatInt(v.I, 10)), nil
		case model.TypeUint:
			return model.String(strconv.FormatUint(v.U, 10)), nil
		case model.TypeBool:
			return model.String(strconv.FormatBool(v.B)), nil
		}
	case ast.TypeBool:
		if v.Type == model.TypeBool {
			return v, nil
		}
	}
	return model.Value{}, errs.Newf(errs.Engine, "Conversion Error: cannot cast %s to %s", v.Type, t.Kind)
}

// typeOf infers a projected column's declared type.
func typeOf(e ast.Expr, s *set) model.FieldType {
	switch x := e.(type) {
	case *ast.ColumnRef:
		if i, err := s.index(x.Name); err == nil {
			return s.cols[i].Type
		}
	case *ast.Literal:
		v, _ := literal(x)
		return v.Type
	case *ast.IsNull:
		return model.TypeBool
	case *ast.Unary:
		if x.Op == ast.Not {
			return model.TypeBool
		}
		return typeOf(x.X, s)
	case *ast.Binary:
		switch {
		case x.Op.IsComparison(), x.Op == ast.OpAnd, x.Op == ast.OpOr, x.Op == ast.OpIsDistinct, x.Op == ast.OpIsNotDistinct:
			return model.TypeBool
		case x.Op == ast.OpConcat:
			return model.TypeString
		case x.Op == ast.OpDiv:
			return model.TypeFloat
		}
		l, r := typeOf(x.L, s), typeOf(x.R, s)
		if l == model.TypeInt && r == model.TypeInt {
			return model.TypeInt
		}
		return model.TypeFloat
	case *ast.Func:
		t := model.TypeUnknown
		for _, a := range x.Args {
			switch at := typeOf(a, s); {
			case at == model.TypeUnknown:
			case t == model.TypeUnknown:
				t = at
			case t != at && (t == model.TypeFloat || at == model.TypeFloat):
				t = model.TypeFloat
			}
		}
		return t
	case *ast.Cast:
		switch x.Type.Kind {
		case ast.TypeDouble, ast.TypeReal:
			return model.TypeFloat
		case ast.TypeBigInt:
			return model.TypeInt
		case ast.TypeText, ast.TypeVarchar:
			return model.TypeString
		case ast.TypeBool:
			return model.TypeBool
		}
	}
	return model.TypeUnknown
}

// empty sets the named columns to "" where their companion column
// (target.Marker + name) has a value, then drops the companions.
func (s *set) empty(names []string) error {
	var drop []int
	for _, n := range names {
		ci := slices.IndexFunc(s.cols, func(c model.ResultColumn) bool { return c.Name == target.Marker+n })
		if ci < 0 {
			continue // no row holds ""
		}
		drop = append(drop, ci)
		i := slices.IndexFunc(s.cols, func(c model.ResultColumn) bool { return c.Name == n })
		for _, r := range s.rows {
			if r[ci].IsNull() {
				continue
			}
			if i < 0 || !r[i].IsNull() {
				return errs.Newf(errs.Internal, "column %s: marked empty but holds a value", n)
			}
			r[i] = model.String("")
		}
	}
	if len(drop) == 0 {
		return nil
	}
	slices.Sort(drop)
	keep := func(i int) bool { _, found := slices.BinarySearch(drop, i); return !found }
	cols := s.cols[:0:0]
	for i, c := range s.cols {
		if keep(i) {
			cols = append(cols, c)
		}
	}
	for k, r := range s.rows {
		nr := r[:0:0]
		for i, v := range r {
			if keep(i) {
				nr = append(nr, v)
			}
		}
		s.rows[k] = nr
	}
	s.cols = cols
	return nil
}
