package ast

import "strings"

// Span locates a node in the query text it was parsed from: byte offsets,
// Start inclusive. End is the end of the node's first token when the parser
// knows no better (pg_query reports only start locations). A node built by a
// rewrite, not parsed, has Start == -1.
type Span struct {
	Start, End int
}

// NoSpan marks a node that does not come from the source text.
var NoSpan = Span{Start: -1, End: -1}

// Pos returns the span; it is promoted into every node that embeds Span.
func (s Span) Pos() Span { return s }

// node seals Node: only types embedding Span (all in this package) are
// nodes.
func (*Span) node() {}

// Node is any element of a query. The interface is sealed: only this
// package can add node types, so a generator's type switch can be checked
// for completeness by reading one file.
type Node interface {
	// String prints the node as canonical PostgreSQL-form SQL that the
	// front end parses back to an equal tree (spans aside) when read as
	// Arc SQL: everything whose meaning differs between the source
	// dialects (LIKE escape, NULL order) is spelled out, and / is true
	// division.
	String() string
	Pos() Span
	node()
}

// Expr is a scalar expression.
type Expr interface {
	Node
	expr()
}

// Statement is one complete statement.
type Statement interface {
	Node
	stmt()
}

// Query is a statement that yields rows and can nest: a Select or a SetOp.
type Query interface {
	Statement
	query()
}

// TableExpr is an item of a FROM clause.
type TableExpr interface {
	Node
	tableExpr()
}

// ---- statements ----

// Select is one SELECT block.
type Select struct {
	Span
	With     *With
	Distinct bool
	// DistinctOn is PostgreSQL's DISTINCT ON (...); Distinct is false then.
	DistinctOn []Expr
	Columns    []*SelectItem
	From       []TableExpr
	Where      Expr
	GroupBy    []Expr
	Having     Expr
	OrderBy    []*OrderItem
	Limit      Expr
	Offset     Expr
}

// SelectItem is one output column.
type SelectItem struct {
	Span
	Expr  Expr
	Alias string
}

// SetOpKind is UNION, INTERSECT or EXCEPT.
type SetOpKind uint8

const (
	Union SetOpKind = iota + 1
	Intersect
	Except
)

func (k SetOpKind) String() string {
	return [...]string{"", "UNION", "INTERSECT", "EXCEPT"}[k]
}

// SetOp combines two queries.
type SetOp struct {
	Span
	With        *With
	Op          SetOpKind
	All         bool
	Left, Right Query
	OrderBy     []*OrderItem
	Limit       Expr
	Offset      Expr
}

// With is a WITH clause.
type With struct {
	Span
	Recursive bool
	CTEs      []*CTE
}

// CTE is one common table expression.
type CTE struct {
	Span
	Name    string
	Columns []string
	Query   Query
}

// OrderItem is one ORDER BY key. Nulls records NULLS FIRST/LAST only when
// the query said so: targets differ in the default, and the generator must
// know whether the user cared.
type OrderItem struct {
	Span
	Expr  Expr
	Desc  bool
	Nulls NullsOrder
}

// NullsOrder is an explicit NULLS FIRST/LAST.
type NullsOrder uint8

const (
	NullsDefault NullsOrder = iota
	NullsFirst
	NullsLast
)

// ShowDatabases is Arc's SHOW DATABASES.
type ShowDatabases struct {
	Span
}

// ShowTables is Arc's SHOW TABLES / SHOW MEASUREMENTS [FROM db].
type ShowTables struct {
	Span
	// Measurements records the spelling only for printing back: both words
	// mean the same listing.
	Measurements bool
	Database     string
}

// Describe is DESCRIBE <table>: the table's columns and types.
type Describe struct {
	Span
	Table *Table
}

// ---- FROM items ----

// Table names a measurement, optionally qualified by database (Arc's
// db.measurement).
type Table struct {
	Span
	Schema string
	Name   string
	Alias  string
}

// SubqueryTable is a derived table: (SELECT ...) AS alias.
type SubqueryTable struct {
	Span
	Query   Query
	Alias   string
	Columns []string
}

// JoinKind is the join type.
type JoinKind uint8

const (
	InnerJoin JoinKind = iota + 1
	LeftJoin
	RightJoin
	FullJoin
	CrossJoin
)

func (k JoinKind) String() string {
	return [...]string{"", "JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN", "CROSS JOIN"}[k]
}

// Join joins two FROM items.
type Join struct {
	Span
	Kind        JoinKind
	Natural     bool
	Left, Right TableExpr
	On          Expr
	Using       []string
}

// ---- expressions ----

// ColumnRef is a possibly qualified column name.
type ColumnRef struct {
	Span
	Table string
	Name  string
}

// Star is * or t.* in a select list.
type Star struct {
	Span
	Table string
}

// LitKind is the kind of a Literal.
type LitKind uint8

const (
	LitNull LitKind = iota + 1
	LitBool
	LitInt
	// LitNumber is a numeric constant with a fraction or exponent, or an
	// integer too large for int64; Text keeps its exact digits.
	LitNumber
	LitString
)

// Literal is a constant as written. Numbers keep their text so no digit is
// lost on the way to another engine.
type Literal struct {
	Span
	Kind LitKind
	// Text is the decoded string value (LitString) or the number's digits.
	Text string
	Int  int64
	Bool bool
}

// IsDouble reports a number written with an exponent, which DuckDB (Arc
// SQL) reads as a DOUBLE; without one, a fraction is a DECIMAL.
func (l *Literal) IsDouble() bool {
	return l.Kind == LitNumber && strings.ContainsAny(l.Text, "eE")
}

// Param is a positional parameter $N (pg wire extended protocol).
type Param struct {
	Span
	N int
}

// TimestampLit is an instant resolved from a string literal compared with
// a time column: microseconds since the Unix epoch, UTC. Resolving it at
// translation time is what lets every target see the same instant at the
// storage precision (µs), whatever the target's own parsing rules.
type TimestampLit struct {
	Span
	Micros int64
}

// Interval is a duration. Months and days are kept apart from the fixed
// part because their length depends on the calendar: '1 month' is not 30
// days, and a target that has only fixed-length durations must refuse it.
type Interval struct {
	Span
	Months int32
	Days   int32
	Micros int64
}

// Fixed reports whether the interval has no calendar part. Days count as
// calendar units only under a time zone with DST; tsgate runs every
// backend session in UTC, where a day is 86400 s, so FixedMicros folds
// them in.
func (iv *Interval) Fixed() bool { return iv.Months == 0 }

// FixedMicros is the interval's length in µs, valid when Fixed.
func (iv *Interval) FixedMicros() int64 { return int64(iv.Days)*86_400_000_000 + iv.Micros }

// Now is the current transaction's timestamp: now(), CURRENT_TIMESTAMP.
type Now struct {
	Span
}

// UnaryOp is a prefix operator.
type UnaryOp uint8

const (
	Neg UnaryOp = iota + 1
	Not
)

// Unary applies a prefix operator.
type Unary struct {
	Span
	Op UnaryOp
	X  Expr
}

// BinaryOp is an infix operator.
type BinaryOp uint8

const (
	OpAnd BinaryOp = iota + 1
	OpOr
	OpEq
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
	OpAdd
	OpSub
	OpMul
	// OpDiv is true division: the result has a fraction even for integer
	// operands (DuckDB's /). PostgreSQL's integer/integer truncates, so a
	// generator must cast there.
	OpDiv
	// OpIntDiv is integer division truncating toward zero (DuckDB's //,
	// PostgreSQL's / on integers).
	OpIntDiv
	OpMod
	OpConcat
	// OpPgDiv is PostgreSQL's / whose operand types the front end could
	// not tell from their form (column references, sums): it truncates
	// when both operands are integers, else divides truly. The translator
	// resolves it to OpIntDiv or OpDiv from the schema before checking,
	// and refuses the query when it cannot; no generator sees it.
	OpPgDiv
	// OpIsDistinct and OpIsNotDistinct are NULL-safe comparisons.
	OpIsDistinct
	OpIsNotDistinct
)

var binaryOpText = [...]string{
	OpAnd: "AND", OpOr: "OR", OpEq: "=", OpNe: "<>", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">=",
	OpAdd: "+", OpSub: "-", OpMul: "*", OpDiv: "/", OpIntDiv: "//", OpMod: "%", OpConcat: "||", OpPgDiv: "/",
	OpIsDistinct: "IS DISTINCT FROM", OpIsNotDistinct: "IS NOT DISTINCT FROM",
}

func (op BinaryOp) String() string {
	if int(op) < len(binaryOpText) {
		return binaryOpText[op]
	}
	return "?"
}

// IsComparison reports =, <>, <, <=, >, >=.
func (op BinaryOp) IsComparison() bool { return op >= OpEq && op <= OpGe }

// Flip is the operator that keeps a comparison's meaning when its operands
// swap sides (a < b is b > a); every other operator is its own flip.
func (op BinaryOp) Flip() BinaryOp {
	switch op {
	case OpLt:
		return OpGt
	case OpLe:
		return OpGe
	case OpGt:
		return OpLt
	case OpGe:
		return OpLe
	}
	return op
}

// Binary applies an infix operator.
type Binary struct {
	Span
	Op   BinaryOp
	L, R Expr
}

// IsNull is x IS [NOT] NULL.
type IsNull struct {
	Span
	X   Expr
	Not bool
}

// Between is x [NOT] BETWEEN lo AND hi (inclusive, not symmetric).
type Between struct {
	Span
	X, Lo, Hi Expr
	Not       bool
}

// InList is x [NOT] IN (list).
type InList struct {
	Span
	X    Expr
	List []Expr
	Not  bool
}

// InSubquery is x [NOT] IN (SELECT ...).
type InSubquery struct {
	Span
	X     Expr
	Query Query
	Not   bool
}

// Exists is [NOT] EXISTS (SELECT ...).
type Exists struct {
	Span
	Query Query
	Not   bool
}

// Subquery is a scalar subquery.
type Subquery struct {
	Span
	Query Query
}

// Like is x [NOT] LIKE|ILIKE pattern [ESCAPE e]. Escape is the escape
// character the source dialect meant, made explicit by the front end:
// PostgreSQL defaults to backslash, DuckDB to none. Escape == "" means no
// escape character at all.
type Like struct {
	Span
	X, Pattern      Expr
	Escape          string
	Not             bool
	CaseInsensitive bool
}

// RegexMatch is x ~ pattern and its negated and case-insensitive forms.
// Full says the pattern must match the whole string: DuckDB's (Arc's) ~
// and regexp_full_match mean that, PostgreSQL's ~ and regexp_matches a
// match anywhere. The rewrite stage anchors constant patterns (^(p)$)
// so targets only see Full with a pattern it could not anchor.
type RegexMatch struct {
	Span
	X, Pattern      Expr
	Not             bool
	CaseInsensitive bool
	Full            bool
}

// TypeKind is a scalar type tsgate can name in every target.
type TypeKind uint8

const (
	TypeBool TypeKind = iota + 1
	TypeSmallInt
	TypeInt
	TypeBigInt
	TypeReal
	TypeDouble
	TypeNumeric
	TypeText
	TypeVarchar
	TypeDate
	TypeTimestamp
	TypeTimestampTZ
	TypeInterval
)

var typeText = [...]string{
	TypeBool: "boolean", TypeSmallInt: "smallint", TypeInt: "integer", TypeBigInt: "bigint",
	TypeReal: "real", TypeDouble: "double precision", TypeNumeric: "numeric", TypeText: "text",
	TypeVarchar: "varchar", TypeDate: "date", TypeTimestamp: "timestamp without time zone",
	TypeTimestampTZ: "timestamp with time zone", TypeInterval: "interval",
}

func (k TypeKind) String() string {
	if int(k) < len(typeText) {
		return typeText[k]
	}
	return "?"
}

// IsInteger reports the integer types.
func (k TypeKind) IsInteger() bool { return k == TypeSmallInt || k == TypeInt || k == TypeBigInt }

// Type is a cast target. Precision and Scale apply to numeric, Length to
// varchar; zero means unspecified.
type Type struct {
	Kind             TypeKind
	Precision, Scale int
	Length           int
}

// Cast converts X to Type.
type Cast struct {
	Span
	X    Expr
	Type Type
}

// Extract is EXTRACT(field FROM x). Field is lower case: epoch, year,
// month, day, hour, minute, second, dow, doy, week, quarter,
// millisecond(s), microsecond(s).
type Extract struct {
	Span
	Field string
	X     Expr
}

// Func is a scalar or window function the AST has no semantic node for.
// Name is lower case as the source spelled it; each dialect's function
// table decides whether it exists there and what it is called. A name not
// in a target's table is refused, never passed through.
type Func struct {
	Span
	Name string
	Args []Expr
	Over *Window
}

// AggKind is an aggregate's meaning.
type AggKind uint8

const (
	AggCount AggKind = iota + 1
	AggSum
	AggAvg
	AggMin
	AggMax
	// AggFirst and AggLast take the value at the smallest/largest By
	// (arg_min/arg_max, first(x ORDER BY t), TimescaleDB first(x, t)).
	AggFirst
	AggLast
	AggStddevSamp
	AggStddevPop
	AggVarSamp
	AggVarPop
	// AggMedian is percentile_cont(0.5).
	AggMedian
	// AggPercentileCont interpolates; AggPercentileDisc returns an input
	// value. Fraction holds the requested fraction.
	AggPercentileCont
	AggPercentileDisc
	// AggApproxQuantile is an approximate quantile whose algorithm the
	// engine picks (DuckDB approx_quantile is a T-Digest).
	AggApproxQuantile
	AggBoolAnd
	AggBoolOr
)

var aggNames = [...]string{
	AggCount: "count", AggSum: "sum", AggAvg: "avg", AggMin: "min", AggMax: "max",
	AggFirst: "first", AggLast: "last", AggStddevSamp: "stddev_samp", AggStddevPop: "stddev_pop",
	AggVarSamp: "var_samp", AggVarPop: "var_pop", AggMedian: "median",
	AggPercentileCont: "percentile_cont", AggPercentileDisc: "percentile_disc",
	AggApproxQuantile: "approx_quantile", AggBoolAnd: "bool_and", AggBoolOr: "bool_or",
}

func (k AggKind) String() string {
	if int(k) < len(aggNames) {
		return aggNames[k]
	}
	return "?"
}

// Agg is an aggregate call, optionally a window aggregate (Over set).
type Agg struct {
	Span
	Kind AggKind
	// Arg is nil for count(*).
	Arg      Expr
	Distinct bool
	// By orders AggFirst/AggLast.
	By Expr
	// Fraction is the percentile for the percentile kinds.
	Fraction Expr
	Filter   Expr
	Over     *Window
}

// Window is an OVER clause.
type Window struct {
	Span
	PartitionBy []Expr
	OrderBy     []*OrderItem
	Frame       *Frame
}

// FrameMode is ROWS or RANGE.
type FrameMode uint8

const (
	FrameRows FrameMode = iota + 1
	FrameRange
)

// BoundKind is a frame bound's kind.
type BoundKind uint8

const (
	UnboundedPreceding BoundKind = iota + 1
	Preceding
	CurrentRow
	Following
	UnboundedFollowing
)

// FrameBound is one end of a window frame; Offset is set for Preceding and
// Following.
type FrameBound struct {
	Kind   BoundKind
	Offset Expr
}

// Frame is an explicit window frame.
type Frame struct {
	Mode       FrameMode
	Start, End FrameBound
}

// Case is CASE [operand] WHEN ... THEN ... [ELSE ...] END.
type Case struct {
	Span
	Operand Expr
	Whens   []*When
	Else    Expr
}

// When is one WHEN arm.
type When struct {
	Cond, Result Expr
}

// BucketResult is what a TimeBucket yields.
type BucketResult uint8

const (
	// BucketTimestamp yields the bucket's start as a timestamp.
	BucketTimestamp BucketResult = iota + 1
	// BucketEpochSeconds yields the start as seconds since the Unix epoch,
	// as Grafana's floor(extract(epoch from t)/300)*300 does.
	BucketEpochSeconds
)

// TimeBucket truncates Source to the start of its bucket. It is one node
// whatever the spelling (time_bucket, date_trunc, date_bin, Grafana's epoch
// arithmetic), with the origin made explicit: DuckDB and TimescaleDB anchor
// buckets to 2000-01-03 (months to 2000-01-01), epoch arithmetic and
// InfluxQL to 1970-01-01, and the answers differ for any width that does
// not divide the gap. Origin is µs since the Unix epoch, UTC.
type TimeBucket struct {
	Span
	Width  Interval
	Source Expr
	Origin int64
	// TZ is the zone buckets are computed in; "" is UTC.
	TZ     string
	Result BucketResult
}

// Default origins, in µs since the Unix epoch.
const (
	// Origin2000Monday is 2000-01-03 00:00:00 UTC, DuckDB's and
	// TimescaleDB's origin for buckets without months.
	Origin2000Monday int64 = 946_857_600_000_000
	// Origin2000 is 2000-01-01 00:00:00 UTC, their origin for month buckets.
	Origin2000 int64 = 946_684_800_000_000
	// OriginEpoch is 1970-01-01 00:00:00 UTC.
	OriginEpoch int64 = 0
)

// ---- seal ----

func (*Select) stmt()        {}
func (*SetOp) stmt()         {}
func (*ShowDatabases) stmt() {}
func (*ShowTables) stmt()    {}
func (*Describe) stmt()      {}

func (*Select) query() {}
func (*SetOp) query()  {}

func (*Table) tableExpr()         {}
func (*SubqueryTable) tableExpr() {}
func (*Join) tableExpr()          {}

func (*ColumnRef) expr()    {}
func (*Star) expr()         {}
func (*Literal) expr()      {}
func (*Param) expr()        {}
func (*TimestampLit) expr() {}
func (*Interval) expr()     {}
func (*Now) expr()          {}
func (*Unary) expr()        {}
func (*Binary) expr()       {}
func (*IsNull) expr()       {}
func (*Between) expr()      {}
func (*InList) expr()       {}
func (*InSubquery) expr()   {}
func (*Exists) expr()       {}
func (*Subquery) expr()     {}
func (*Like) expr()         {}
func (*RegexMatch) expr()   {}
func (*Cast) expr()         {}
func (*Extract) expr()      {}
func (*Func) expr()         {}
func (*Agg) expr()          {}
func (*Case) expr()         {}
func (*TimeBucket) expr()   {}

var (
	_ Query     = (*Select)(nil)
	_ Query     = (*SetOp)(nil)
	_ Statement = (*ShowDatabases)(nil)
	_ Statement = (*ShowTables)(nil)
	_ Statement = (*Describe)(nil)

	_ Node = (*SelectItem)(nil)
	_ Node = (*OrderItem)(nil)
	_ Node = (*With)(nil)
	_ Node = (*CTE)(nil)
	_ Node = (*Window)(nil)

	_ TableExpr = (*Table)(nil)
	_ TableExpr = (*SubqueryTable)(nil)
	_ TableExpr = (*Join)(nil)

	_ Expr = (*ColumnRef)(nil)
	_ Expr = (*Star)(nil)
	_ Expr = (*Literal)(nil)
	_ Expr = (*Param)(nil)
	_ Expr = (*TimestampLit)(nil)
	_ Expr = (*Interval)(nil)
	_ Expr = (*Now)(nil)
	_ Expr = (*Unary)(nil)
	_ Expr = (*Binary)(nil)
	_ Expr = (*IsNull)(nil)
	_ Expr = (*Between)(nil)
	_ Expr = (*InList)(nil)
	_ Expr = (*InSubquery)(nil)
	_ Expr = (*Exists)(nil)
	_ Expr = (*Subquery)(nil)
	_ Expr = (*Like)(nil)
	_ Expr = (*RegexMatch)(nil)
	_ Expr = (*Cast)(nil)
	_ Expr = (*Extract)(nil)
	_ Expr = (*Func)(nil)
	_ Expr = (*Agg)(nil)
	_ Expr = (*Case)(nil)
	_ Expr = (*TimeBucket)(nil)
)
