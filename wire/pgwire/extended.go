package pgwire

import (
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"

	"tsgate/errs"
	"tsgate/model"
)

// simpleQuery runs a Query message: each statement in turn, stopping at
// the first error, then ReadyForQuery.
func (c *conn) simpleQuery(q string) {
	stmts := splitStatements(q)
	if len(stmts) == 0 {
		c.be.Send(&pgproto3.EmptyQueryResponse{})
	}
	for _, s := range stmts {
		if err := c.runSimple(s); err != nil {
			c.sendError(c.canceledErr(err))
			break
		}
	}
	c.be.Send(&pgproto3.ReadyForQuery{TxStatus: c.txStatus})
}

func (c *conn) runSimple(sql string) error {
	res, err := c.run(sql)
	if err != nil {
		return c.canceledErr(err)
	}
	defer res.close()
	if res.empty {
		c.be.Send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	if res.rows == nil {
		c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(res.tag)})
		return nil
	}
	rd, err := c.setColumns(res.rows.Columns(), nil, res.binary)
	if err != nil {
		return err
	}
	c.be.Send(rd)
	c.setRunning(res.cancel)
	n, _, err := c.stream(res.rows, 0)
	c.setRunning(nil)
	if err != nil {
		return err
	}
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(res.complete(n))})
	return nil
}

// prepared is a parsed (named or unnamed) statement.
type prepared struct {
	name string
	sql  string
	oids []uint32
	// cols is the row description, found on first Describe.
	cols      []model.ResultColumn
	described bool
}

// portal is a bound statement, started on first Describe or Execute.
type portal struct {
	stmt    *prepared
	sql     string
	formats []int16
	res     *result
	done    bool
}

func (c *conn) closePortals() {
	for k, p := range c.portals {
		p.res.close()
		delete(c.portals, k)
	}
}

func (c *conn) parse(m *pgproto3.Parse) error {
	if m.Name != "" {
		if _, dup := c.stmts[m.Name]; dup {
			return sqlErrf(errs.Conflict, "42P05", "prepared statement %q already exists", m.Name)
		}
	}
	if n := len(splitStatements(m.Query)); n > 1 {
		return sqlErrf(errs.Invalid, "42601", "cannot insert multiple commands into a prepared statement")
	}
	q := strings.TrimSpace(m.Query)
	q = strings.TrimSuffix(q, ";")
	oids := inferParamTypes(q, m.ParameterOIDs)
	if pt, ok := c.srv.exec.(ParamTyper); ok && slices.Contains(oids, 0) {
		ctx, cancel := c.begin()
		// Types come from the schema: only a reader may look.
		if ctx, err := c.reader(ctx); err == nil {
			for n, ft := range pt.ParamTypes(ctx, c.db, q) {
				if n >= 1 && n <= len(oids) && oids[n-1] == 0 {
					oids[n-1] = fieldOID(ft)
				}
			}
		}
		cancel()
	}
	defaultParamTypes(oids)
	c.stmts[m.Name] = &prepared{name: m.Name, sql: q, oids: oids}
	c.be.Send(&pgproto3.ParseComplete{})
	return nil
}

func (c *conn) bind(m *pgproto3.Bind) error {
	st, ok := c.stmts[m.PreparedStatement]
	if !ok {
		return sqlErrf(errs.NotFound, "26000", "prepared statement %q does not exist", m.PreparedStatement)
	}
	if len(m.Parameters) != len(st.oids) {
		return sqlErrf(errs.Invalid, "08P01", "bind message supplies %d parameters, but prepared statement %q requires %d", len(m.Parameters), st.name, len(st.oids))
	}
	if old, ok := c.portals[m.DestinationPortal]; ok {
		if m.DestinationPortal != "" {
			return sqlErrf(errs.Conflict, "42P03", "portal %q already exists", m.DestinationPortal)
		}
		old.res.close()
	}
	sql, err := bindParams(st.sql, st.oids, m.ParameterFormatCodes, m.Parameters)
	if err != nil {
		return err
	}
	c.portals[m.DestinationPortal] = &portal{stmt: st, sql: sql, formats: slices.Clone(m.ResultFormatCodes)}
	c.be.Send(&pgproto3.BindComplete{})
	return nil
}

// start runs a portal's statement; its rows stay open in the portal.
func (c *conn) start(p *portal) error {
	if p.res != nil || p.done {
		return nil
	}
	res, err := c.run(p.sql)
	if err != nil {
		return c.canceledErr(err)
	}
	p.res = res
	return nil
}

func (c *conn) describe(m *pgproto3.Describe) error {
	if m.ObjectType == 'S' {
		st, ok := c.stmts[m.Name]
		if !ok {
			return sqlErrf(errs.NotFound, "26000", "prepared statement %q does not exist", m.Name)
		}
		if err := c.describeStatement(st); err != nil {
			return err
		}
		c.be.Send(&pgproto3.ParameterDescription{ParameterOIDs: st.oids})
		if st.cols == nil {
			c.be.Send(&pgproto3.NoData{})
			return nil
		}
		rd, err := c.setColumns(st.cols, nil, false)
		if err != nil {
			return err
		}
		c.be.Send(rd)
		return nil
	}
	p, ok := c.portals[m.Name]
	if !ok {
		return sqlErrf(errs.NotFound, "34000", "portal %q does not exist", m.Name)
	}
	if err := c.start(p); err != nil {
		return err
	}
	if p.res == nil || p.res.rows == nil {
		c.be.Send(&pgproto3.NoData{})
		return nil
	}
	rd, err := c.setColumns(p.res.rows.Columns(), p.formats, p.res.binary)
	if err != nil {
		return err
	}
	c.be.Send(rd)
	return nil
}

// describeStatement finds a statement's result columns before it is
// bound: session commands have fixed shapes; a query runs with every
// parameter NULL and LIMIT 0 around it, so the backend types the columns
// without reading data.
func (c *conn) describeStatement(st *prepared) error {
	if st.described {
		return nil
	}
	w := words(st.sql, 2)
	first := ""
	if len(w) > 0 {
		first = w[0]
	}
	switch first {
	case "", "set", "reset", "discard", "begin", "start", "commit", "end", "rollback", "abort",
		"savepoint", "release", "unlisten", "listen", "deallocate", "declare", "close", "move":
		st.described = true
		return nil
	case "show", "fetch":
		// Their shape depends on state; run them to see it.
	}
	nulls := make([][]byte, len(st.oids))
	sql, err := bindParams(st.sql, nil, nil, nulls)
	if err != nil {
		return err
	}
	if first == "show" || first == "fetch" {
		if first == "fetch" {
			// FETCH consumes rows: describe it by its cursor's columns.
			t := tokens(sql, 0)
			if cur, ok := c.cursors[t[len(t)-1].text]; ok {
				st.cols, st.described = cur.res.rows.Columns(), true
				return nil
			}
		}
		res, err := c.run(sql)
		if err != nil {
			return err
		}
		defer res.close()
		if res.rows != nil {
			st.cols = res.rows.Columns()
		}
		st.described = true
		return nil
	}
	ctx, cancel := c.begin()
	defer cancel()
	c.setRunning(cancel)
	defer c.setRunning(nil)
	if d, ok := c.srv.exec.(Describer); ok && !(c.srv.cfg.Catalog != nil && isCatalogQuery(sql)) {
		if _, isProbe, _ := c.probe(sql); !isProbe {
			ctx, err := c.reader(ctx)
			if err != nil {
				return err
			}
			cols, err := d.Describe(ctx, c.db, sql)
			if err != nil {
				return err
			}
			st.cols, st.described = cols, true
			return nil
		}
	}
	var rows model.Rows
	if first == "select" || first == "with" || first == "values" || first == "table" {
		rows, err = c.query(ctx, "SELECT * FROM ("+sql+") AS tsgate_describe LIMIT 0", nil)
	}
	if rows == nil {
		rows, err = c.query(ctx, sql, nil)
	}
	if err != nil {
		return err
	}
	st.cols = rows.Columns()
	rows.Close()
	st.described = true
	return nil
}

func (c *conn) execute(m *pgproto3.Execute) error {
	p, ok := c.portals[m.Portal]
	if !ok {
		return sqlErrf(errs.NotFound, "34000", "portal %q does not exist", m.Portal)
	}
	if err := c.start(p); err != nil {
		return err
	}
	res := p.res
	switch {
	case p.done:
		c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte("SELECT 0")})
		return nil
	case res.empty:
		c.be.Send(&pgproto3.EmptyQueryResponse{})
		return nil
	case res.rows == nil:
		p.done = true
		c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(res.tag)})
		return nil
	}
	if _, err := c.setColumns(res.rows.Columns(), p.formats, res.binary); err != nil {
		return err
	}
	c.setRunning(res.cancel)
	n, limited, err := c.stream(res.rows, int(m.MaxRows))
	c.setRunning(nil)
	if err != nil {
		res.close()
		p.res, p.done = nil, true
		return c.canceledErr(err)
	}
	if limited {
		c.be.Send(&pgproto3.PortalSuspended{})
		return nil
	}
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(res.complete(n))})
	res.close()
	p.res, p.done = nil, true
	return nil
}

func (c *conn) closeMsg(m *pgproto3.Close) error {
	if m.ObjectType == 'S' {
		delete(c.stmts, m.Name)
	} else if p, ok := c.portals[m.Name]; ok {
		p.res.close()
		delete(c.portals, m.Name)
	}
	c.be.Send(&pgproto3.CloseComplete{})
	return nil
}
