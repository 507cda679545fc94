package plan

import (
	"tsgate/model"
	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// Reading tags back as written (InfluxDB stores no empty tag value), and
// string fields where the result format cannot tell "" from null.

// emptyTags reads InfluxDB's tags back as they were written. InfluxDB
// stores no empty tag value: a point written with tag "" and a point
// without the tag are stored alike, read as NULL in a raw row and as ”
// as a group key. tsgate records per tag whether every point carries it
// (Required) and whether some carry "" (EmptyValues): a Required tag reads
// ” wherever InfluxDB has nothing (memtrace writes ” for every unset
// tag); a tag some points lack, and none carries as "", reads NULL; the
// ambiguous rest is refused before this (optionalTag).
func (a *analyzer) emptyTags(proj []target.ProjectColumn) []target.ProjectColumn {
	empty := &ast.Literal{Span: ast.NoSpan, Kind: ast.LitString, Text: ""}
	how := map[string]string{}
	for _, c := range a.p.Schema {
		switch {
		case c.Tag && c.Required:
			how[c.Name] = "coalesce"
		case c.Tag:
			how[c.Name] = "nullif"
		case a.opt.EmptyStringReadsNull && c.Required && c.Type == model.TypeString:
			// The result cannot tell "" from null either, so a string
			// field every point has reads NULL only where it was "".
			how[c.Name] = "coalesce"
		}
	}
	wrap := func(e ast.Expr) ast.Expr {
		r, ok := e.(*ast.ColumnRef)
		if !ok {
			return e
		}
		coalesce := &ast.Func{Span: ast.NoSpan, Name: "coalesce", Args: []ast.Expr{r, empty}}
		switch how[r.Name] {
		case "coalesce":
			return coalesce
		case "nullif":
			return &ast.Func{Span: ast.NoSpan, Name: "nullif", Args: []ast.Expr{coalesce, empty}}
		}
		return e
	}
	// Sorts before the projection must see the values as written too.
	for _, st := range a.p.Post {
		for _, o := range st.Order {
			o.Expr = wrap(o.Expr)
		}
	}
	for i, pc := range proj {
		proj[i].Expr = wrap(pc.Expr)
	}
	return proj
}

// optionalTag refuses reading a tag whose ” is ambiguous: some points
// lack it and some were written with ” — InfluxDB stores both without
// the tag, so neither NULL nor ” reads every point back as written.
func (a *analyzer) optionalTag(c target.ColumnInfo, n ast.Node) error {
	if !c.Tag || c.Required || !c.EmptyValues {
		return nil
	}
	return a.refuse("reading tag "+c.Name+", which some points lack and some carry as ''", n,
		"InfluxDB stores both as no tag; which was written is not recorded per point")
}
