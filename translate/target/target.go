package target

import (
	"fmt"
	"strings"

	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/ast"
)

// Language is what a generator's Text is written in; the executor picks
// the backend protocol by it.
type Language uint8

const (
	SQL Language = iota + 1
	InfluxQL
	Flux
)

// String is the language's name as the console shows it.
func (l Language) String() string {
	switch l {
	case SQL:
		return "SQL"
	case InfluxQL:
		return "InfluxQL"
	case Flux:
		return "Flux"
	}
	return "unknown"
}

// ColumnInfo describes one column of a measurement. The time column is
// not listed: it is always `time`.
type ColumnInfo struct {
	Name string
	Tag  bool
	Type model.FieldType
	// Required marks a field present in every point of the measurement
	// (memtrace's content, TSBS's usage_* fields). InfluxDB has no rows,
	// only points with some fields: InfluxQL and Flux can count or return
	// every point exactly only through a field that is never absent, so
	// their generators refuse what would need one when none is marked.
	//
	// For a tag, Required means every point has it: a backend that reads
	// an absent tag as '' (InfluxDB, where a tag value cannot be empty)
	// then returns '' only for points written with the empty string.
	Required bool
	// EmptyValues marks a tag some points carry with the empty string.
	// With Required false as well, '' from such a backend is ambiguous
	// (absent or empty): queries that read the tag are refused.
	EmptyValues bool
	// Untracked marks a column the backend keeps no presence bookkeeping
	// for (points written by another client, or before tsgate kept it).
	Untracked bool
}

// Schema tells generators which columns are tags and which are fields, and
// their types. Backends implement it from their catalogs; tests use
// translate.StaticSchema.
type Schema interface {
	// Columns lists a measurement's columns. database is "" for the
	// request's default database. ok is false for an unknown measurement.
	Columns(database, measurement string) (cols []ColumnInfo, ok bool)
	// Version changes whenever any answer would; the translation cache
	// keys on it.
	Version() uint64
}

// Column finds one column of a measurement.
func Column(s Schema, database, measurement, column string) (ColumnInfo, bool) {
	if s == nil {
		return ColumnInfo{}, false
	}
	cols, ok := s.Columns(database, measurement)
	if !ok {
		return ColumnInfo{}, false
	}
	for _, c := range cols {
		if c.Name == column {
			return c, true
		}
	}
	return ColumnInfo{}, false
}

// Note declares a difference between the source query's meaning and the
// translation's that the target cannot avoid but that does not change
// which rows match (precision, approximation algorithm). A difference that
// would is a refusal instead.
type Note struct {
	Construct string
	Msg       string
}

func (n Note) String() string { return n.Construct + ": " + n.Msg }

// StepKind is a row-level operation the gateway applies to the backend's
// result because the target language cannot.
type StepKind uint8

const (
	// StepSort sorts rows by Order.
	StepSort StepKind = iota + 1
	// StepFilter keeps rows for which Filter is true (a HAVING the target
	// lacks).
	StepFilter
	// StepLimit skips Offset rows, then keeps at most Limit (Limit < 0:
	// no limit).
	StepLimit
	// StepDefaultRow: when the input has no rows at all, emit exactly one
	// row whose column Columns[i].Name holds Columns[i].Expr (a literal);
	// a non-empty input passes unchanged. It restores SQL's one row for
	// an aggregate without GROUP BY, which InfluxQL and Flux omit when no
	// point matches (count → 0, every other aggregate → NULL).
	StepDefaultRow
	// StepEmpty sets each Names column to the empty string on the rows
	// where its companion column (Marker + name) has a value, then drops
	// the companion columns. A target whose result format writes "" and
	// NULL alike (Flux's annotated CSV) returns the companions so the two
	// come back apart. A companion no row has may be absent.
	StepEmpty
	// StepProject replaces each row by Columns: output column i is named
	// Columns[i].Name and holds Columns[i].Expr evaluated on the input
	// row. It shapes the backend's columns (time first, series tags,
	// helper columns) into the query's select list and computes what the
	// target language cannot (arithmetic between aggregates).
	StepProject
)

// ProjectColumn is one column of a StepProject or StepDefaultRow.
type ProjectColumn struct {
	Name string
	Expr ast.Expr
}

// PostStep is one row-level operation. Steps apply in order.
//
// Expressions in Order, Filter and Columns refer to the step's input
// columns by unqualified ast.ColumnRef names and use only literals,
// ast.Unary, ast.Binary, ast.IsNull and ast.Cast, evaluated with the
// source dialect's SQL semantics (three-valued logic, / is true division,
// NULL propagates through arithmetic).
type PostStep struct {
	Kind    StepKind
	Order   []*ast.OrderItem
	Filter  ast.Expr
	Limit   int64
	Offset  int64
	Columns []ProjectColumn
	// Absent names the measurement's columns a schemaless backend leaves
	// out of a result when no row has a value (InfluxDB's Flux after
	// pivot): the step reads them as NULL. Any other name missing from
	// the input stays an error — it would be a generator bug.
	Absent []string
	// Names are the StepEmpty columns.
	Names []string
}

// Marker starts a companion column's name (StepEmpty): a control
// character no column name of a measurement has.
const Marker = "\x01"

// String renders the step for golden files and `tsgate translate`.
func (p PostStep) String() string {
	cols := func(cs []ProjectColumn) string {
		var b strings.Builder
		for i, c := range cs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.Name + " := " + c.Expr.String())
		}
		return b.String()
	}
	switch p.Kind {
	case StepSort:
		var b strings.Builder
		for i, o := range p.Order {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(o.String())
		}
		return "sort " + b.String()
	case StepFilter:
		return "filter " + p.Filter.String()
	case StepLimit:
		return fmt.Sprintf("limit %d offset %d", p.Limit, p.Offset)
	case StepDefaultRow:
		return "default-row " + cols(p.Columns)
	case StepProject:
		return "project " + cols(p.Columns)
	case StepEmpty:
		return "empty strings where marked: " + strings.Join(p.Names, ", ")
	}
	return fmt.Sprintf("step %d", p.Kind)
}

// Output is a generator's result.
type Output struct {
	Text  string
	Notes []Note
	// Post is empty for SQL targets: they express the whole query.
	Post []PostStep
}

// Env is what a generator may consult besides the AST.
type Env struct {
	Schema Schema
	// Database is the request's default database ("" when unknown).
	Database string
	// PostgresSemantics: the query came from pg wire and means what it
	// means in PostgreSQL (division by zero is an error, …), not what it
	// means in DuckDB (Arc SQL).
	PostgresSemantics bool
}

// Caps is a set of constructs a target supports; the translator's check
// stage refuses anything outside it before generation, with one message
// shape for all targets.
type Caps uint32

const (
	CapJoin Caps = 1 << iota
	CapSubquery
	CapCTE
	CapWindow
	CapCase
	CapSetOp
	CapHaving
	CapDistinct
	CapOffset
	CapILike
	CapRegex
	// CapRegexFull: a whole-string regex match with a non-constant
	// pattern (constant ones are anchored before the check).
	CapRegexFull
	CapParams
	CapOuterJoin
	CapDistinctOn
	// CapPostgresSemantics: the target computes arithmetic, casts,
	// numeric literals and aggregates as PostgreSQL does when the query
	// came from pg wire (PostgreSQL itself, and DuckDB through its
	// PostgreSQL-semantics printing).
	CapPostgresSemantics
)

// CapNames names each capability as the construct a refusal mentions.
var capNames = map[Caps]string{
	CapJoin: "joins", CapSubquery: "subqueries", CapCTE: "WITH (common table expressions)",
	CapWindow: "window functions", CapCase: "CASE", CapSetOp: "UNION/INTERSECT/EXCEPT",
	CapHaving: "HAVING", CapDistinct: "SELECT DISTINCT", CapOffset: "OFFSET", CapILike: "ILIKE",
	CapRegex: "regular-expression matching", CapRegexFull: "a whole-string regex match with a non-constant pattern", CapParams: "$n parameters", CapOuterJoin: "outer joins",
	CapDistinctOn: "DISTINCT ON", CapPostgresSemantics: "PostgreSQL's arithmetic, casts and aggregates (pg wire)",
}

// CapName is the construct name for a single capability bit.
func CapName(c Caps) string { return capNames[c] }

// Generator turns a checked, rewritten AST into one target's language. A
// generator is immutable and safe for concurrent use.
type Generator interface {
	// Name is the target's name as the CLI and configuration spell it.
	Name() string
	Language() Language
	Caps() Caps
	// Hint explains a missing capability in this target's terms, or "".
	Hint(c Caps) string
	// Generate must not modify q.
	Generate(q ast.Query, env *Env) (*Output, error)
}

// Refuse builds the typed refusal for construct in target: SQLSTATE 0A000,
// the source position when known.
func Refuse(targetName, construct string, n ast.Node, hint string) *errs.Error {
	e := &errs.Error{Code: errs.Unsupported, Msg: construct + " cannot be expressed exactly in " + targetName, Hint: hint}
	if n != nil {
		if sp := n.Pos(); sp.Start >= 0 {
			// Byte offset; translate converts it to a character position
			// against the query text.
			e.Position = sp.Start + 1
		}
	}
	return e
}
