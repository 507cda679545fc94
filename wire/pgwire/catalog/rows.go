package catalog

import (
	"database/sql"
	"fmt"
	"strings"

	"tsgate/errs"
	"tsgate/internal/sqlrows"
	"tsgate/model"
)

// newRows adapts the catalog engine's result to model.Rows; the
// connection is pooled again when the result ends. Lists (ACLs,
// reloptions, indkey) print in PostgreSQL's array text form.
func newRows(conn *sql.Conn, r *sql.Rows) (model.Rows, error) {
	cols, err := sqlrows.Columns(r, fieldType)
	if err != nil {
		conn.Close()
		return nil, errs.Wrap(errs.Engine, err, err.Error())
	}
	return sqlrows.New(r, cols,
		func(_ int, v any) model.Value { return value(v) },
		func(error) { conn.Close() },
		func(err error) error { return errs.Wrap(errs.Engine, err, "catalog query failed: "+err.Error()) }), nil
}

// fieldType is the store's reading of a DuckDB type name, but for the
// unsigned numbers: PostgreSQL has none, so value prints them as text.
func fieldType(dbType string) model.FieldType {
	if t := sqlrows.FieldType(dbType); t != model.TypeUint {
		return t
	}
	return model.TypeText
}

func value(v any) model.Value {
	switch x := v.(type) {
	case uint64, uint32, uint16, uint8:
		// fieldType has no unsigned type: such a column is text.
		return model.Value{Type: model.TypeText, S: fmt.Sprint(v)}
	case []any:
		var sb strings.Builder
		sb.WriteByte('{')
		for i, e := range x {
			if i > 0 {
				sb.WriteByte(',')
			}
			if e == nil {
				sb.WriteString("NULL")
				continue
			}
			fmt.Fprint(&sb, e)
		}
		sb.WriteByte('}')
		return model.Value{Type: model.TypeText, S: sb.String()}
	}
	if val, ok := sqlrows.Value(v); ok {
		return val
	}
	return model.Value{Type: model.TypeText, S: fmt.Sprint(v)}
}
