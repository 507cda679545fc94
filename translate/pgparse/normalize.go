package pgparse

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	pg "github.com/pganalyze/pg_query_go/v6"

	"tsgate/translate/ast"
)

// Parser is Parse with a cache of pg_query parse trees keyed by the query's
// literal-normalized text. pg_query's parse is most of a translation's
// cost (tens of µs) and applications send the same shapes with different
// values — memtrace's list query with another agent id, a dashboard with
// another time range — so `WHERE agent_id = 'a'` and `WHERE agent_id =
// 'b'` share one tree: the literals become $n parameters in the cached
// tree and the converter reads each $n back as the literal it replaced.
//
// A literal is replaced only where a parameter parses to the same tree
// shape (after a comparison, a comma or an opening parenthesis, LIKE,
// ESCAPE, LIMIT, …); typed literals (INTERVAL '1 hour'), signed numbers
// and positional ORDER/GROUP BY references stay in the text. When the
// normalized text does not parse, or its conversion fails, the original
// text is parsed instead, so results and error positions are exactly
// Parse's.
type Parser struct {
	mu    sync.Mutex
	max   int
	trees map[string]*pg.ParseResult // nil value: normalized text does not parse
	order []string                   // FIFO eviction; a hit costs no bookkeeping
	next  int
}

// NewParser returns a Parser caching up to max trees (0 disables the cache).
func NewParser(max int) *Parser {
	return &Parser{max: max, trees: make(map[string]*pg.ParseResult, max)}
}

// Parse parses one statement, like the package-level Parse.
func (p *Parser) Parse(sql string, flavor Flavor) (ast.Statement, error) {
	if p == nil || p.max <= 0 {
		return Parse(sql, flavor)
	}
	if st, ok, err := parseArc(sql); ok {
		return st, err
	}
	norm, lits, ok := normalize(sql)
	if !ok {
		return Parse(sql, flavor)
	}
	tree, hit := p.get(norm)
	if !hit {
		var err error
		if tree, err = pg.Parse(norm); err != nil {
			tree = nil
		}
		p.put(norm, tree)
	}
	if tree == nil {
		return Parse(sql, flavor)
	}
	c := conv{sql: norm, flavor: flavor, lits: lits}
	st, err := c.tree(tree)
	if err != nil {
		// Re-derive the error from the original text: its message and
		// position must point into what the client sent.
		return Parse(sql, flavor)
	}
	return st, nil
}

func (p *Parser) get(k string) (*pg.ParseResult, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.trees[k]
	return t, ok
}

func (p *Parser) put(k string, t *pg.ParseResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.trees[k]; ok {
		return
	}
	if len(p.order) < p.max {
		p.order = append(p.order, k)
	} else {
		delete(p.trees, p.order[p.next])
		p.order[p.next] = k
		p.next = (p.next + 1) % p.max
	}
	p.trees[k] = t
}

// literalAfter are the tokens after which a literal can be a parameter
// without changing the parse tree's shape.
var literalAfter = map[string]bool{
	"=": true, "<>": true, "!=": true, "<": true, ">": true, "<=": true, ">=": true,
	"(": true, ",": true, "||": true, "~": true, "!~": true, "~*": true, "!~*": true,
	"LIKE": true, "ILIKE": true, "ESCAPE": true, "THEN": true, "ELSE": true, "WHEN": true,
	"BETWEEN": true, "AND": true, "LIMIT": true, "OFFSET": true, "*": true, "/": true, "%": true,
}

// orderListEnd are the words that end an ORDER BY / GROUP BY list.
var orderListEnd = map[string]bool{
	"LIMIT": true, "OFFSET": true, "HAVING": true, "WINDOW": true, "UNION": true, "EXCEPT": true,
	"INTERSECT": true, "FETCH": true, "FOR": true, "ORDER": true,
}

// normalize returns sql with its replaceable literals turned into $1…$n,
// and those literals as pg_query constants. ok is false when the query
// already has parameters (their numbers would clash) or cannot be lexed.
func normalize(sql string) (string, []*pg.A_Const, bool) {
	// pg_query refuses invalid UTF-8 (its protobuf strings must be
	// valid); a literal lifted out of the text would dodge that check.
	// pg_query's C parser also ends the text at a NUL byte.
	if !utf8.ValidString(sql) || strings.IndexByte(sql, 0) >= 0 {
		return "", nil, false
	}
	toks, ok := lex(sql, make([]token, 0, 64))
	if !ok {
		return "", nil, false
	}
	var sb strings.Builder
	sb.Grow(len(sql))
	var lits []*pg.A_Const
	last := 0
	depth := 0
	orderDepth := -1 // paren depth of the ORDER/GROUP BY list we are in, -1 none
	prev := ""
	for i, t := range toks {
		word := ""
		switch t.kind {
		case tokParam:
			return "", nil, false
		case tokIdent:
			word = strings.ToUpper(text(sql, t))
		case tokOp, tokPunct:
			word = text(sql, t)
		}
		switch {
		case word == "(":
			depth++
		case word == ")":
			depth--
			if orderDepth > depth {
				orderDepth = -1
			}
		case word == "BY" && (prev == "ORDER" || prev == "GROUP"):
			orderDepth = depth
		case word == ";" || (orderDepth == depth && orderListEnd[word]):
			orderDepth = -1
		}
		if (t.kind == tokString || t.kind == tokInt || t.kind == tokNumber) && literalAfter[prev] {
			// A number directly in an ORDER/GROUP BY list is a column
			// position, not a value.
			positional := t.kind != tokString && orderDepth == depth
			// Two adjacent strings are one literal continued on a new
			// line; leave such queries alone.
			adjacentString := t.kind == tokString && i+1 < len(toks) && toks[i+1].kind == tokString
			if !positional && !adjacentString {
				k := constOf(sql, t)
				if k == nil {
					return "", nil, false
				}
				lits = append(lits, k)
				// Spaces around the parameter: `LIKE'x'` must not become
				// the identifier LIKE$1, nor `'0'0` the parameter $10.
				sb.WriteString(sql[last:t.start])
				sb.WriteString(" $")
				sb.WriteString(strconv.Itoa(len(lits)))
				sb.WriteByte(' ')
				last = t.end
			}
		}
		if word != "" {
			prev = word
		} else {
			prev = ""
		}
	}
	if len(lits) == 0 {
		return "", nil, false
	}
	sb.WriteString(sql[last:])
	return sb.String(), lits, true
}

// constOf builds the constant pg_query would have made of the literal
// token: int32-range integers as Ival, other numbers as Fval text, strings
// unquoted (standard_conforming_strings: ” is the only escape).
func constOf(sql string, t token) *pg.A_Const {
	s := text(sql, t)
	switch t.kind {
	case tokString:
		v := strings.ReplaceAll(s[1:len(s)-1], "''", "'")
		return &pg.A_Const{Val: &pg.A_Const_Sval{Sval: &pg.String{Sval: v}}}
	case tokInt, tokNumber:
		if i, err := strconv.ParseInt(s, 10, 32); err == nil {
			return &pg.A_Const{Val: &pg.A_Const_Ival{Ival: &pg.Integer{Ival: int32(i)}}}
		}
		return &pg.A_Const{Val: &pg.A_Const_Fval{Fval: &pg.Float{Fval: s}}}
	}
	return nil
}

// aconst returns the constant n is, or stands for: an A_Const itself, or
// the literal a normalized query's $n replaced.
func (c *conv) aconst(n *pg.Node) *pg.A_Const {
	if k := n.GetAConst(); k != nil {
		return k
	}
	if p := n.GetParamRef(); p != nil && c.lits != nil && p.Number >= 1 && int(p.Number) <= len(c.lits) {
		return &pg.A_Const{Val: c.lits[p.Number-1].Val, Location: p.Location}
	}
	return nil
}
