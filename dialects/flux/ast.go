package flux

import (
	"strconv"
	"strings"
	"time"
)

// A small Flux AST: just the forms the generator emits, each printing
// itself. Keeping text out of the generator makes quoting and precedence
// one function each.

// Expr is a Flux expression.
type Expr interface{ write(b *strings.Builder) }

type (
	// Str is a string literal.
	Str string
	// Int is an integer literal; Float is a float literal's text.
	Int   int64
	Float string
	Bool  bool
	// Ident is a bare identifier; Member is x.prop.
	Ident  string
	Member struct {
		X    Expr
		Prop string
	}
	// Binary is l op r; Paren groups.
	Binary struct {
		Op   string
		L, R Expr
	}
	Paren  struct{ X Expr }
	Not    struct{ X Expr }
	Exists struct{ X Expr }
	// Regex is a regular-expression literal (RE2 source).
	Regex string
	Array []Expr
	// Record is {with | props} (With may be nil).
	Record struct {
		With  Expr
		Props []Prop
	}
	Prop struct {
		Key string
		Val Expr
	}
	// Func is (params) => body.
	Func struct {
		Params []string
		Body   Expr
	}
	Cond struct{ If, Then, Else Expr }
	// Dur is a signed duration in ns; Time an instant in ns since the epoch.
	Dur  int64
	Time int64
	// Call is fn(name: value, ...).
	Call struct {
		Fn   string
		Args []Arg
	}
	// Arg is a call's named argument: Flux passes a function one
	// record, so its arguments are that record's properties.
	Arg = Prop
)

// Pipe is head |> stage |> stage ...; the head is a call (from, union)
// or a variable.
type Pipe struct {
	Head   Expr
	Stages []*Call
}

func (p *Pipe) Add(fn string, args ...Arg) { p.Stages = append(p.Stages, &Call{Fn: fn, Args: args}) }

// String renders the pipe one stage a line.
func (p *Pipe) String() string {
	var b strings.Builder
	p.lines(&b)
	return b.String()
}

func (p *Pipe) lines(b *strings.Builder) {
	p.Head.write(b)
	for _, s := range p.Stages {
		b.WriteString("\n  |> ")
		s.write(b)
	}
}

// write renders a pipe inside an expression (an argument) on one line.
func (p *Pipe) write(b *strings.Builder) {
	p.Head.write(b)
	for _, s := range p.Stages {
		b.WriteString(" |> ")
		s.write(b)
	}
}

// Program binds variables, then runs Main.
type Program struct {
	Vars []Var
	Main *Pipe
}

// Var is name = value.
type Var struct {
	Name  string
	Value Expr
}

func (p *Program) String() string {
	var b strings.Builder
	for _, v := range p.Vars {
		b.WriteString(v.Name)
		b.WriteString(" = ")
		if pipe, ok := v.Value.(*Pipe); ok {
			pipe.lines(&b)
		} else {
			v.Value.write(&b)
		}
		b.WriteByte('\n')
	}
	p.Main.lines(&b)
	return b.String()
}

func (s Str) write(b *strings.Builder) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case 0x01:
			b.WriteString(`\x01`) // tsgate's result marker, spelled out
		case '$':
			// ${ starts an interpolation in a Flux string.
			if i+1 < len(s) && s[i+1] == '{' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

func (i Int) write(b *strings.Builder) {
	if i == -1<<63 {
		// The literal 9223372036854775808 does not exist.
		b.WriteString("-9223372036854775807 - 1")
		return
	}
	b.WriteString(strconv.FormatInt(int64(i), 10))
}
func (f Float) write(b *strings.Builder) { b.WriteString(string(f)) }
func (v Bool) write(b *strings.Builder)  { b.WriteString(strconv.FormatBool(bool(v))) }
func (i Ident) write(b *strings.Builder) { b.WriteString(string(i)) }

func (m *Member) write(b *strings.Builder) {
	m.X.write(b)
	if isIdent(m.Prop) {
		b.WriteByte('.')
		b.WriteString(m.Prop)
		return
	}
	b.WriteByte('[')
	Str(m.Prop).write(b)
	b.WriteByte(']')
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	switch s {
	case "and", "or", "not", "exists", "if", "then", "else", "import", "package", "return", "option", "builtin", "test", "empty", "in":
		return false
	}
	return true
}

func (x *Binary) write(b *strings.Builder) {
	x.L.write(b)
	b.WriteByte(' ')
	b.WriteString(x.Op)
	b.WriteByte(' ')
	x.R.write(b)
}

func (p *Paren) write(b *strings.Builder) {
	b.WriteByte('(')
	p.X.write(b)
	b.WriteByte(')')
}

func (n *Not) write(b *strings.Builder) {
	b.WriteString("not ")
	n.X.write(b)
}

func (e *Exists) write(b *strings.Builder) {
	b.WriteString("exists ")
	e.X.write(b)
}

func (r Regex) write(b *strings.Builder) {
	if r == "" {
		// "//" would start a comment: the empty pattern, spelled so it
		// is a regex literal.
		b.WriteString("/(?:)/")
		return
	}
	b.WriteByte('/')
	b.WriteString(strings.ReplaceAll(string(r), "/", `\/`))
	b.WriteByte('/')
}

func (a Array) write(b *strings.Builder) {
	b.WriteByte('[')
	writeList(b, a, func(e Expr) { e.write(b) })
	b.WriteByte(']')
}

func (r *Record) write(b *strings.Builder) {
	b.WriteByte('{')
	if r.With != nil {
		r.With.write(b)
		b.WriteString(" with ")
	}
	writeProps(b, r.Props)
	b.WriteByte('}')
}

// writeProps prints a record's properties, or a call's arguments, as
// key: value, ...
func writeProps(b *strings.Builder, props []Prop) {
	writeList(b, props, func(p Prop) {
		b.WriteString(p.Key)
		b.WriteString(": ")
		p.Val.write(b)
	})
}

// writeList prints items with write, separated by ", ".
func writeList[T any](b *strings.Builder, items []T, write func(T)) {
	for i, x := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		write(x)
	}
}

func (f *Func) write(b *strings.Builder) {
	b.WriteByte('(')
	b.WriteString(strings.Join(f.Params, ", "))
	b.WriteString(") => ")
	if _, ok := f.Body.(*Record); ok {
		// A record body needs parentheses, or it reads as a block.
		b.WriteByte('(')
		f.Body.write(b)
		b.WriteByte(')')
		return
	}
	f.Body.write(b)
}

func (c *Cond) write(b *strings.Builder) {
	b.WriteString("if ")
	c.If.write(b)
	b.WriteString(" then ")
	c.Then.write(b)
	b.WriteString(" else ")
	c.Else.write(b)
}

// write prints a duration in h, m, s, ms, us and ns parts, which is exact
// for any ns count.
func (d Dur) write(b *strings.Builder) {
	n := int64(d)
	if n == 0 {
		b.WriteString("0ns")
		return
	}
	if n < 0 {
		b.WriteByte('-')
		n = -n
	}
	for _, u := range []struct {
		ns   int64
		name string
	}{{3600e9, "h"}, {60e9, "m"}, {1e9, "s"}, {1e6, "ms"}, {1e3, "us"}, {1, "ns"}} {
		if n >= u.ns {
			b.WriteString(strconv.FormatInt(n/u.ns, 10))
			b.WriteString(u.name)
			n %= u.ns
		}
	}
}

func (t Time) write(b *strings.Builder) {
	b.WriteString(time.Unix(0, int64(t)).UTC().Format(time.RFC3339Nano))
}

func (c *Call) write(b *strings.Builder) {
	b.WriteString(c.Fn)
	b.WriteByte('(')
	writeProps(b, c.Args)
	b.WriteByte(')')
}
