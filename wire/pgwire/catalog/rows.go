package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"tsgate/errs"
	"tsgate/model"
)

// rows adapts the catalog engine's result to model.Rows. Lists (ACLs,
// reloptions, indkey) print in PostgreSQL's array text form.
type rows struct {
	ctx  context.Context
	conn *sql.Conn
	r    *sql.Rows
	cols []model.ResultColumn
	scan []any
	vals []any
	err  error
	done bool
}

func newRows(ctx context.Context, conn *sql.Conn, r *sql.Rows) (model.Rows, error) {
	cts, err := r.ColumnTypes()
	if err != nil {
		r.Close()
		conn.Close()
		return nil, errs.Wrap(errs.Engine, err, err.Error())
	}
	out := &rows{ctx: ctx, conn: conn, r: r, cols: make([]model.ResultColumn, len(cts)), scan: make([]any, len(cts)), vals: make([]any, len(cts))}
	for i, ct := range cts {
		name := ct.DatabaseTypeName()
		out.cols[i] = model.ResultColumn{Name: ct.Name(), Type: fieldType(name), BackendType: name}
		out.scan[i] = &out.vals[i]
	}
	return out, nil
}

func fieldType(dbType string) model.FieldType {
	switch dbType {
	case "INTEGER", "SMALLINT", "BIGINT", "TINYINT":
		return model.TypeInt
	case "FLOAT", "DOUBLE":
		return model.TypeFloat
	case "BOOLEAN":
		return model.TypeBool
	case "VARCHAR":
		return model.TypeString
	case "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ", "TIMESTAMP":
		return model.TypeTime
	}
	return model.TypeText
}

func (r *rows) Columns() []model.ResultColumn { return r.cols }

func (r *rows) Next(dst []model.Value) bool {
	if r.done {
		return false
	}
	if !r.r.Next() {
		r.err = r.r.Err()
		r.Close()
		return false
	}
	if err := r.r.Scan(r.scan...); err != nil {
		r.err = err
		r.Close()
		return false
	}
	for i, v := range r.vals {
		dst[i] = value(v)
	}
	return true
}

func value(v any) model.Value {
	switch x := v.(type) {
	case nil:
		return model.Value{}
	case int32:
		return model.Int(int64(x))
	case int16:
		return model.Int(int64(x))
	case int8:
		return model.Int(int64(x))
	case int64:
		return model.Int(x)
	case float32:
		return model.Float(float64(x))
	case float64:
		return model.Float(x)
	case bool:
		return model.Bool(x)
	case string:
		return model.String(x)
	case time.Time:
		return model.Time(x.UnixMicro())
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
	return model.Value{Type: model.TypeText, S: fmt.Sprint(v)}
}

func (r *rows) Err() error {
	if r.err != nil {
		return errs.Wrap(errs.Engine, r.err, "catalog query failed: "+r.err.Error())
	}
	return nil
}

func (r *rows) Close() error {
	if !r.done {
		r.done = true
		r.r.Close()
		r.conn.Close()
	}
	return nil
}
