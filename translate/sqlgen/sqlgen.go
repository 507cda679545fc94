package sqlgen

import (
	"strconv"
	"strings"

	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// FuncSpec says how a scalar or window function is spelled in a target.
type FuncSpec struct {
	Name    string
	MinArgs int
	// MaxArgs < 0 means variadic.
	MaxArgs int
	// Window marks window-only functions (row_number, lag...), which need
	// OVER; other functions must not have one.
	Window bool
}

// AggSpec says how an aggregate is spelled. Exactly one of Name and Print
// is set for a supported aggregate; a zero AggSpec refuses it with Hint.
type AggSpec struct {
	// Name prints name(arg) (count(*) for a missing arg) followed by the
	// FILTER/OVER clauses.
	Name string
	// Print prints the whole call.
	Print func(g *Gen, a *ast.Agg)
	// Note is a declared difference, attached when the aggregate is used.
	Note string
	Hint string
}

// Dialect describes one SQL target.
type Dialect struct {
	Name  string
	Caps  target.Caps
	Hints map[target.Caps]string
	Funcs map[string]FuncSpec
	Aggs  map[ast.AggKind]AggSpec
	// Types names cast targets; a missing kind is refused.
	Types map[ast.TypeKind]string
	// Extract maps an EXTRACT field to a format with one %s for the
	// operand; a missing field is refused.
	Extract map[string]string

	QuoteIdent  func(string) string
	QuoteString func(string) string
	// Conservative parenthesizes every compound operand (targets whose
	// precedence differs from PostgreSQL's).
	Conservative bool
	// ARE: the engine's regular expressions are PostgreSQL's (ARE), not
	// RE2 as in DuckDB.
	ARE bool
	// DotNewline: the engine's . matches a newline (PostgreSQL's ARE,
	// ClickHouse's match()); RE2's does not.
	DotNewline bool
	// NullsLastDesc is the engine's default NULL placement when sorting
	// descending (true: last, DuckDB; false: first, PostgreSQL). Ascending
	// sorts put NULLs last everywhere here.
	NullsLastDesc bool
	// NaNWithNulls: the engine sorts NaN next to the NULLs (ClickHouse),
	// not above +Inf as DuckDB and PostgreSQL do; a float sort key that
	// may be NaN (MayNaN) is then preceded by isNaN(key) in the same
	// direction.
	NaNWithNulls bool
	// UnifyNumbers (Arc SQL only): DuckDB compares an integer with a double (in a
	// comparison, BETWEEN or an IN list) by converting every integer
	// operand to DOUBLE — 2^53+1 equals 2^53 there. An engine that
	// compares exactly (ClickHouse) or types BETWEEN's bounds one by one
	// (PostgreSQL) gets those casts written out.
	UnifyNumbers bool
	// LikeEscape is the escape character LIKE uses without an ESCAPE
	// clause ("" for none).
	LikeEscape string

	// Overrides: nil means the canonical PostgreSQL form.
	Now          func(g *Gen, n *ast.Now)
	TimestampLit func(g *Gen, t *ast.TimestampLit)
	Interval     func(g *Gen, iv *ast.Interval)
	Bucket       func(g *Gen, b *ast.TimeBucket)
	Like         func(g *Gen, l *ast.Like)
	Regex        func(g *Gen, r *ast.RegexMatch)
	Cast         func(g *Gen, c *ast.Cast) bool
	// Binary handles operators whose spelling or meaning differs; it
	// returns false to get the canonical form.
	Binary func(g *Gen, b *ast.Binary) bool
	// Node takes over any node before the tables are consulted. Prepare
	// runs before printing (to mark nodes), Suffix after the top-level
	// query (ClickHouse SETTINGS).
	Node func(g *Gen, n ast.Node) bool
	// Rewrite may replace the query before it is printed (a wrapping
	// subquery); it runs before Prepare.
	Rewrite func(g *Gen, q ast.Query) ast.Query
	Prepare func(g *Gen, q ast.Query)
	Suffix  func(g *Gen, q ast.Query)
}

// Generator is a target.Generator for a SQL dialect.
type Generator struct {
	D *Dialect
}

var _ target.Generator = (*Generator)(nil)

func (s *Generator) Name() string              { return s.D.Name }
func (s *Generator) Language() target.Language { return target.SQL }
func (s *Generator) Caps() target.Caps         { return s.D.Caps }
func (s *Generator) Hint(c target.Caps) string { return s.D.Hints[c] }

// Generate prints q in the dialect.
func (s *Generator) Generate(q ast.Query, env *target.Env) (*target.Output, error) {
	g := &Gen{D: s.D, Env: env, kinds: columnKinds(q, env)}
	g.P.Hooks = g
	g.P.Conservative = s.D.Conservative
	g.P.Grow(256)
	if s.D.Rewrite != nil {
		q = s.D.Rewrite(g, q)
	}
	if s.D.Prepare != nil {
		s.D.Prepare(g, q)
	}
	if s.D.NaNWithNulls {
		g.orderExprs = orderExprs(q)
	}
	g.P.Stmt(q)
	if s.D.Suffix != nil {
		s.D.Suffix(g, q)
	}
	if err := g.P.Err(); err != nil {
		return nil, err
	}
	return &target.Output{Text: g.P.String(), Notes: g.notes}, nil
}

// Predicate prints a row condition alone (a DELETE's WHERE) in the
// dialect: the same printing as a query's WHERE, so what a backend deletes
// is exactly what the same condition selects.
func (s *Generator) Predicate(e ast.Expr, env *target.Env) (string, error) {
	g := &Gen{D: s.D, Env: env}
	g.P.Hooks = g
	g.P.Conservative = s.D.Conservative
	g.P.Expr(e)
	if err := g.P.Err(); err != nil {
		return "", err
	}
	return g.P.String(), nil
}

// Gen is the state of one generation: the printer, the dialect, notes.
type Gen struct {
	P     ast.Printer
	D     *Dialect
	Env   *target.Env
	notes []target.Note
	// Marks lets a dialect's Prepare tag nodes for its hooks.
	Marks map[ast.Node]bool
	// kinds are the query's columns' type classes (TypeOf).
	kinds map[string]Kind
	// fresh counts the names Fresh made.
	fresh int
	// orderExprs are the expressions of ORDER BY items that name a
	// select item (an alias or a position).
	orderExprs map[*ast.OrderItem]ast.Expr
}

// orderExprs maps each ORDER BY item of q's SELECTs that is an output
// column's alias or position to that column's expression.
func orderExprs(q ast.Query) map[*ast.OrderItem]ast.Expr {
	out := map[*ast.OrderItem]ast.Expr{}
	ast.Inspect(q, func(n ast.Node) bool {
		sel, ok := n.(*ast.Select)
		if !ok {
			return true
		}
		for _, o := range sel.OrderBy {
			switch e := o.Expr.(type) {
			case *ast.ColumnRef:
				if e.Table != "" {
					continue
				}
				for _, it := range sel.Columns {
					if it.Alias == e.Name {
						out[o] = it.Expr
						break
					}
				}
			case *ast.Literal:
				if e.Kind == ast.LitInt && e.Int >= 1 && int(e.Int) <= len(sel.Columns) {
					out[o] = sel.Columns[e.Int-1].Expr
				}
			}
		}
		return true
	})
	return out
}

// Fresh returns a new name, distinct from every other Fresh name of this
// translation (user names never start with _tsgate_).
func (g *Gen) Fresh(prefix string) string {
	g.fresh++
	return "_tsgate_" + prefix + strconv.Itoa(g.fresh)
}

// Note adds a declared difference once.
func (g *Gen) Note(construct, msg string) {
	for _, n := range g.notes {
		if n.Construct == construct && n.Msg == msg {
			return
		}
	}
	g.notes = append(g.notes, target.Note{Construct: construct, Msg: msg})
}

// Refuse records a refusal of construct at n.
func (g *Gen) Refuse(construct string, n ast.Node, hint string) {
	g.P.Fail(target.Refuse(g.D.Name, construct, n, hint))
}

// W appends raw text.
func (g *Gen) W(s string) { g.P.W(s) }

// Expr prints an expression through the dialect.
func (g *Gen) Expr(e ast.Expr) { g.P.Expr(e) }

// Ident implements ast.Hooks.
func (g *Gen) Ident(p *ast.Printer, name string) { p.W(g.D.QuoteIdent(name)) }

// Str implements ast.Hooks.
func (g *Gen) Str(p *ast.Printer, s string) { p.W(g.D.QuoteString(s)) }

// Node implements ast.Hooks: the per-node dispatch to the dialect's data.
func (g *Gen) Node(p *ast.Printer, n ast.Node) bool {
	if g.D.UnifyNumbers && (g.Env == nil || !g.Env.PostgresSemantics) {
		// DuckDB's comparison of an integer with a double, emulated; a
		// pg-wire query means PostgreSQL's (exact against a numeric).
		if u := g.unify(n); u != nil {
			g.Expr(u)
			return true
		}
	}
	if g.D.Node != nil && g.D.Node(g, n) {
		return true
	}
	switch n := n.(type) {
	case *ast.Func:
		g.fn(n)
	case *ast.Agg:
		g.agg(n)
	case *ast.Cast:
		return g.cast(n)
	case *ast.Extract:
		f, ok := g.D.Extract[n.Field]
		if !ok {
			g.Refuse("EXTRACT("+n.Field+")", n, "")
			return true
		}
		pre, post, _ := strings.Cut(f, "%s")
		g.W(pre)
		g.Expr(n.X)
		g.W(post)
	case *ast.Now:
		if g.D.Now == nil {
			return false
		}
		g.D.Now(g, n)
	case *ast.TimestampLit:
		if g.D.TimestampLit == nil {
			return false
		}
		g.D.TimestampLit(g, n)
	case *ast.Interval:
		if g.D.Interval == nil {
			return false
		}
		g.D.Interval(g, n)
	case *ast.TimeBucket:
		if n.TZ != "" {
			g.Refuse("a time bucket in time zone "+n.TZ, n, "tsgate translates buckets computed in UTC only")
			return true
		}
		g.D.Bucket(g, n)
	case *ast.Like:
		if g.D.Like != nil {
			g.D.Like(g, n)
			return true
		}
		g.like(n)
	case *ast.RegexMatch:
		if err := CheckRegex(n.Pattern); err != "" {
			g.Refuse("regular expression with "+err, n, "engines disagree on this syntax")
			return true
		}
		if lit, ok := n.Pattern.(*ast.Literal); ok && g.D.DotNewline && (g.Env == nil || !g.Env.PostgresSemantics) {
			// RE2's . (DuckDB's) never matches a newline; this engine's
			// does: each unbracketed . becomes [^<LF>], which means RE2's .
			// in both.
			if re, changed := dotNoNewline(lit.Text); changed {
				m := *n
				m.Pattern = &ast.Literal{Span: lit.Span, Kind: ast.LitString, Text: re}
				g.P.Expr(&m)
				return true
			}
		}
		if pg := g.Env != nil && g.Env.PostgresSemantics; pg != g.D.ARE {
			// The pattern was written for one flavor and runs on the other.
			if err := CheckAREvsRE2(n.Pattern); err != "" {
				g.Refuse("regular expression with "+err, n, "PostgreSQL's ARE and RE2 (DuckDB) read it differently")
				return true
			}
		}
		if g.D.Regex == nil {
			g.Note("regular expression", "evaluated by "+g.D.Name+"'s regex engine; PostgreSQL (ARE) and RE2 agree on the syntax used here")
			return false
		}
		g.D.Regex(g, n)
	case *ast.Binary:
		if g.D.Binary != nil {
			return g.D.Binary(g, n)
		}
		return false
	case *ast.OrderItem:
		g.orderItem(n)
	case *ast.Param:
		if g.D.Caps&target.CapParams == 0 {
			g.Refuse("$n parameters", n, "")
			return true
		}
		return false
	default:
		return false
	}
	return true
}

// orderItem prints NULLS FIRST/LAST only where the engine's default
// differs from what the source meant, and never for the time column,
// which has no NULLs.
func (g *Gen) orderItem(o *ast.OrderItem) {
	e, ok := g.orderExprs[o]
	if !ok {
		e = o.Expr
	}
	if g.D.NaNWithNulls && g.TypeOf(e) == KFloat && MayNaN(g, e) {
		// isNaN(NULL) is NULL, so the key keeps NULLs where the item puts
		// them, and orders NaN above every number either way.
		g.W("isNaN(")
		g.Expr(o.Expr)
		g.W(")")
		g.direction(o)
		g.W(", ")
	}
	g.Expr(o.Expr)
	g.direction(o)
}

// direction prints o's DESC and NULLS placement.
func (g *Gen) direction(o *ast.OrderItem) {
	if o.Desc {
		g.W(" DESC")
	}
	if NonNull(o.Expr) {
		return
	}
	def := ast.NullsLast
	if o.Desc && !g.D.NullsLastDesc {
		def = ast.NullsFirst
	}
	if o.Nulls != def {
		if o.Nulls == ast.NullsFirst {
			g.W(" NULLS FIRST")
		} else {
			g.W(" NULLS LAST")
		}
	}
}

// NonNull reports expressions that cannot be NULL: the time column, a
// bucket of it, count().
func NonNull(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.ColumnRef:
		return e.Name == "time"
	case *ast.TimeBucket:
		return NonNull(e.Source)
	case *ast.Agg:
		return e.Kind == ast.AggCount
	}
	// A literal in ORDER BY is a column position, which may hold NULLs.
	return false
}

func (g *Gen) fn(f *ast.Func) {
	spec, ok := g.D.Funcs[f.Name]
	if !ok {
		g.Refuse("function "+f.Name+"()", f, "")
		return
	}
	if len(f.Args) < spec.MinArgs || spec.MaxArgs >= 0 && len(f.Args) > spec.MaxArgs {
		g.Refuse(f.Name+"() with "+strconv.Itoa(len(f.Args))+" arguments", f, "")
		return
	}
	if spec.Window != (f.Over != nil) {
		if spec.Window {
			g.Refuse(f.Name+"() without OVER", f, "")
		} else {
			g.Refuse(f.Name+"() as a window function", f, "")
		}
		return
	}
	g.W(spec.Name)
	g.W("(")
	g.P.ExprList(f.Args)
	g.W(")")
	g.P.Over(f.Over)
}

func (g *Gen) agg(a *ast.Agg) {
	spec := g.D.Aggs[a.Kind]
	if spec.Name == "" && spec.Print == nil {
		g.Refuse("aggregate "+a.Kind.String(), a, spec.Hint)
		return
	}
	if spec.Note != "" {
		g.Note(a.Kind.String(), spec.Note)
	}
	if spec.Print != nil {
		spec.Print(g, a)
		return
	}
	g.P.AggCall(spec.Name, a)
	g.P.AggTail(a)
}

func (g *Gen) cast(c *ast.Cast) bool {
	if g.D.Cast != nil && g.D.Cast(g, c) {
		return true
	}
	name, ok := g.D.Types[c.Type.Kind]
	if !ok {
		g.Refuse("CAST to "+c.Type.String(), c, "")
		return true
	}
	g.W("CAST(")
	g.Expr(c.X)
	g.W(" AS ")
	g.W(name)
	switch {
	case c.Type.Kind == ast.TypeNumeric && c.Type.Precision > 0:
		g.W("(" + strconv.Itoa(c.Type.Precision) + ", " + strconv.Itoa(c.Type.Scale) + ")")
	case c.Type.Kind == ast.TypeVarchar && c.Type.Length > 0:
		g.W("(" + strconv.Itoa(c.Type.Length) + ")")
	}
	g.W(")")
	return true
}

// like prints LIKE for engines with an ESCAPE clause, spelling the escape
// only when the pattern needs it and the engine's default differs.
func (g *Gen) like(l *ast.Like) {
	if l.CaseInsensitive && g.D.Caps&target.CapILike == 0 {
		g.Refuse("ILIKE", l, "")
		return
	}
	g.P.LikeHead(l, ast.PrecLike+1)
	g.P.Operand(l.Pattern, ast.PrecLike+1)
	if l.Escape == g.D.LikeEscape {
		return
	}
	if lit, ok := l.Pattern.(*ast.Literal); ok && lit.Kind == ast.LitString &&
		(l.Escape == "" || !strings.Contains(lit.Text, l.Escape)) &&
		(g.D.LikeEscape == "" || !strings.Contains(lit.Text, g.D.LikeEscape)) {
		return // no escape character in play either way
	}
	g.W(" ESCAPE ")
	g.P.Str(l.Escape)
}

// nonConstantPattern is what the pattern checks name a pattern they cannot
// read.
const nonConstantPattern = "a non-constant pattern"

// constPattern is the text of a pattern that is a string literal; only
// such a pattern can be checked.
func constPattern(p ast.Expr) (string, bool) {
	lit, ok := p.(*ast.Literal)
	if !ok || lit.Kind != ast.LitString {
		return "", false
	}
	return lit.Text, true
}

// CheckRegex names a regular-expression feature whose meaning differs
// between PostgreSQL's ARE and RE2 (backreferences, lookaround, possessive
// and class shorthands that differ), or returns "". A non-constant pattern
// cannot be checked.
func CheckRegex(p ast.Expr) string {
	s, ok := constPattern(p)
	if !ok {
		return nonConstantPattern
	}
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\\' {
			c := s[i+1]
			switch {
			case c >= '1' && c <= '9':
				return "a backreference"
			case c == 'm' || c == 'M' || c == 'y' || c == 'Y' || c == 'Z' || c == 'A':
				return `\` + string(c)
			}
			i++
			continue
		}
		if s[i] == '(' && s[i+1] == '?' {
			return "a (?...) group"
		}
		if s[i] == '[' && i+2 < len(s) && s[i+1] == '[' && s[i+2] == ':' {
			// [[:alpha:]] works in both, but [[:<:]] does not.
			if i+3 < len(s) && (s[i+3] == '<' || s[i+3] == '>') {
				return "a word-boundary class"
			}
		}
	}
	return ""
}

// dotNoNewline rewrites each . outside a bracket expression as [^\n]
// (a literal line feed inside the brackets); changed is false when the
// pattern has none.
func dotNoNewline(p string) (string, bool) {
	var b strings.Builder
	inClass, changed := false, false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			b.WriteByte(c)
			b.WriteByte(p[i+1])
			i++
			continue
		case inClass:
			if c == '[' && i+1 < len(p) && p[i+1] == ':' {
				// A POSIX class ([:alpha:]) inside the brackets: its ]
				// does not close them.
				if end := strings.Index(p[i+2:], ":]"); end >= 0 {
					b.WriteString(p[i : i+2+end+2])
					i += 2 + end + 1
					continue
				}
			}
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			b.WriteByte(c)
			// A ] first in the class (after an optional ^) is a member.
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
			continue
		case c == '.':
			b.WriteString("[^\n]")
			changed = true
			continue
		}
		b.WriteByte(c)
	}
	return b.String(), changed
}

// CheckAREvsRE2 names an escape that means one thing in RE2 and another
// in PostgreSQL's ARE, or returns "": \b is a word boundary in RE2 and a
// backspace in ARE; \B likewise; the class shorthands \d \w \s (and
// their negations) are ASCII in RE2 and follow the locale's classes in
// ARE, so they differ on non-ASCII text.
func CheckAREvsRE2(p ast.Expr) string {
	s, ok := constPattern(p)
	if !ok {
		return nonConstantPattern
	}
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		switch c := s[i+1]; c {
		case 'b', 'B', 'd', 'D', 'w', 'W', 's', 'S':
			return `\` + string(c)
		}
		i++
	}
	return ""
}

// Mod is the non-negative remainder.
func Mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// SameOrigin reports whether buckets of width w anchored at o1 and o2
// coincide: their difference is a whole number of widths (months for
// month widths, which must both be at a month start).
func SameOrigin(w ast.Interval, o1, o2 int64) bool {
	if w.Months == 0 {
		return Mod(o1-o2, w.FixedMicros()) == 0
	}
	m1, ok1 := monthIndex(o1)
	m2, ok2 := monthIndex(o2)
	return ok1 && ok2 && Mod(m1-m2, int64(w.Months)) == 0
}

// monthIndex gives months since 1970-01 for an instant at a month start.
func monthIndex(us int64) (int64, bool) {
	if Mod(us, 86_400_000_000) != 0 {
		return 0, false
	}
	days := us / 86_400_000_000
	y, m, d := civil(days)
	if d != 1 {
		return 0, false
	}
	return int64(y-1970)*12 + int64(m-1), true
}

// civil converts days since 1970-01-01 to a date (Hinnant).
func civil(z int64) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		yy++
	}
	return int(yy), m, d
}

// LikeToken is one element of a LIKE pattern: a literal rune, or the %
// and _ wildcards.
type LikeToken struct {
	Wild byte // '%', '_' or 0 for a literal
	R    rune
}

// ParseLike splits a pattern under escape character esc ("" for none).
// A trailing escape is an error in every engine, so it is refused.
func ParseLike(pat, esc string) ([]LikeToken, bool) {
	var out []LikeToken
	var e rune = -1
	if esc != "" {
		e = []rune(esc)[0]
	}
	rs := []rune(pat)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == e:
			if i+1 == len(rs) {
				return nil, false
			}
			i++
			out = append(out, LikeToken{R: rs[i]})
		case r == '%' || r == '_':
			out = append(out, LikeToken{Wild: byte(r)})
		default:
			out = append(out, LikeToken{R: r})
		}
	}
	return out, true
}

// FormatLike renders tokens with backslash as the escape character.
func FormatLike(toks []LikeToken) string {
	var b strings.Builder
	for _, t := range toks {
		switch {
		case t.Wild != 0:
			b.WriteByte(t.Wild)
		case t.R == '%' || t.R == '_' || t.R == '\\':
			b.WriteByte('\\')
			b.WriteRune(t.R)
		default:
			b.WriteRune(t.R)
		}
	}
	return b.String()
}

// IsIntegerExpr reports expressions whose value is known to be an integer
// (or a string the target parses, failing the same way everywhere).
func IsIntegerExpr(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Literal:
		return e.Kind == ast.LitInt || e.Kind == ast.LitString
	case *ast.Agg:
		return e.Kind == ast.AggCount
	case *ast.Cast:
		return e.Type.Kind.IsInteger()
	case *ast.Unary:
		return e.Op == ast.Neg && IsIntegerExpr(e.X)
	case *ast.Binary:
		return (e.Op == ast.OpAdd || e.Op == ast.OpSub || e.Op == ast.OpMul || e.Op == ast.OpIntDiv) &&
			IsIntegerExpr(e.L) && IsIntegerExpr(e.R)
	}
	return false
}

// RoundForComparison moves an instant t (µs) onto the grid of unit (µs)
// that the stored values lie on, in the direction that keeps `stored op t`
// true for exactly the same stored values. For = and <> no grid value
// equals an off-grid t, so the comparison has a constant answer, returned
// as always.
func RoundForComparison(op ast.BinaryOp, t, unit int64) (rounded int64, always *ast.Literal) {
	floor := t - Mod(t, unit)
	if floor == t {
		return t, nil
	}
	switch op {
	case ast.OpGt, ast.OpLe:
		return floor, nil
	case ast.OpGe, ast.OpLt:
		return floor + unit, nil
	case ast.OpEq:
		return 0, &ast.Literal{Span: ast.NoSpan, Kind: ast.LitBool, Bool: false}
	case ast.OpNe:
		return 0, &ast.Literal{Span: ast.NoSpan, Kind: ast.LitBool, Bool: true}
	}
	return t, nil
}

// AggCall prints a as a call of the engine's function name, DISTINCT,
// FILTER and OVER included, without consulting the dialect's hooks for a
// itself (a hook that prints its own aggregate would otherwise print it
// again).
func (g *Gen) AggCall(name string, a *ast.Agg) {
	g.W(name + "(")
	if a.Distinct {
		g.W("DISTINCT ")
	}
	g.Expr(a.Arg)
	g.W(")")
	g.P.AggTail(a)
}

// Operands prints "((l) op (r))": both operands and the whole
// parenthesized, for an operator the printer's precedence table does not
// model (DuckDB's //, PostgreSQL's integer /).
func (g *Gen) Operands(l ast.Expr, op string, r ast.Expr) {
	g.W("((")
	g.Expr(l)
	g.W(") " + op + " (")
	g.Expr(r)
	g.W("))")
}
