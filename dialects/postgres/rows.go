package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"tsgate/dialects/backendkit"
	"tsgate/errs"
	"tsgate/model"
)

// PostgreSQL type OIDs tsgate decodes natively.
const (
	oidBool        = 16
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidFloat4      = 700
	oidFloat8      = 701
	oidBPChar      = 1042
	oidVarchar     = 1043
	oidName        = 19
	oidDate        = 1082
	oidTimestamp   = 1114
	oidTimestampTZ = 1184
	oidNumeric     = 1700
)

var oidNames = map[uint32]string{
	oidBool: "boolean", oidInt8: "bigint", oidInt2: "smallint", oidInt4: "integer", oidText: "text",
	oidFloat4: "real", oidFloat8: "double precision", oidBPChar: "character", oidVarchar: "character varying",
	oidName: "name", oidDate: "date", oidTimestamp: "timestamp", oidTimestampTZ: "timestamptz", oidNumeric: "numeric",
}

// Query runs SQL text with bare names resolving in db's schema. Results
// arrive in text format (the statement is not prepared, see Open) and are
// parsed straight into model.Values.
func (b *Backend) Query(ctx context.Context, db, text string) (model.Rows, error) {
	conn, err := b.pool.Acquire(ctx)
	if err != nil {
		return nil, b.classify(ctx, err)
	}
	// search_path per connection: pooled connections serve every
	// database, and setting it costs a round trip (0.24 ms measured), so
	// a connection remembers the last one it was given.
	path := quoteIdent(schemaOf(db))
	if cur, ok := b.paths.Load(conn.Conn()); !ok || cur.(string) != path {
		if _, err := conn.Exec(ctx, `SELECT set_config('search_path', $1, false)`, path); err != nil {
			b.paths.Delete(conn.Conn())
			conn.Release()
			return nil, b.classify(ctx, err)
		}
		b.paths.Store(conn.Conn(), path)
	}
	rows, err := conn.Query(ctx, text)
	if err != nil {
		conn.Release()
		return nil, b.classify(ctx, err)
	}
	fds := rows.FieldDescriptions()
	r := &pgRows{b: b, ctx: ctx, conn: conn, rows: rows, cols: make([]model.ResultColumn, len(fds)),
		uint: make([]bool, len(fds)), oids: make([]uint32, len(fds))}
	for i, fd := range fds {
		r.oids[i] = fd.DataTypeOID
		name := oidNames[fd.DataTypeOID]
		if name == "" {
			name = "oid:" + strconv.FormatUint(uint64(fd.DataTypeOID), 10)
		}
		r.cols[i] = model.ResultColumn{Name: fd.Name, Type: resultType(fd.DataTypeOID), BackendType: name}
		if fd.DataTypeOID == oidNumeric && fd.TableOID != 0 && b.isUint(ctx, fd.TableOID, fd.TableAttributeNumber) {
			r.uint[i] = true
			r.cols[i].Type = model.TypeUint
			r.cols[i].BackendType = metaSchema + ".uint64"
		}
	}
	// The statement is not prepared, so PostgreSQL's errors (a missing
	// table, a bad cast) arrive with the first row: read it now, so they
	// surface from Query with their code.
	if !r.ahead.Read(len(r.cols), r.next) && r.err != nil {
		return nil, r.err
	}
	return r, nil
}

func resultType(oid uint32) model.FieldType {
	switch oid {
	case oidBool:
		return model.TypeBool
	case oidInt8, oidInt2, oidInt4:
		return model.TypeInt
	case oidFloat4, oidFloat8:
		return model.TypeFloat
	case oidText, oidVarchar, oidBPChar, oidName:
		return model.TypeString
	case oidDate, oidTimestamp, oidTimestampTZ:
		return model.TypeTime
	}
	return model.TypeText
}

// isUint reports whether a result column is a table column of tsgate's
// uint64 domain (RowDescription reports a domain as its base type,
// numeric). The answer per table is cached; write-side DDL clears it.
func (b *Backend) isUint(ctx context.Context, rel uint32, att uint16) bool {
	b.umu.Lock()
	cols, ok := b.uints[rel]
	b.umu.Unlock()
	if !ok {
		cols = map[uint16]bool{}
		rows, err := b.pool.Query(ctx, `SELECT attnum FROM pg_attribute
			WHERE attrelid = $1 AND atttypid = to_regtype($2) AND NOT attisdropped`, rel, metaSchema+".uint64")
		if err != nil {
			return false
		}
		nums, err := pgx.CollectRows(rows, pgx.RowTo[int16])
		if err != nil {
			return false
		}
		for _, n := range nums {
			cols[uint16(n)] = true
		}
		b.umu.Lock()
		b.uints[rel] = cols
		b.umu.Unlock()
	}
	return cols[att]
}

func (b *Backend) forgetUints() {
	b.umu.Lock()
	clear(b.uints)
	b.umu.Unlock()
}

type pgRows struct {
	b      *Backend
	ctx    context.Context
	conn   *pgxpool.Conn
	rows   pgx.Rows
	cols   []model.ResultColumn
	oids   []uint32
	uint   []bool
	err    error
	closed bool
	ahead  backendkit.Ahead
}

func (r *pgRows) Columns() []model.ResultColumn { return r.cols }
func (r *pgRows) Err() error                    { return r.err }

func (r *pgRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.rows.Close()
	if r.err == nil {
		if err := r.rows.Err(); err != nil {
			r.err = r.b.classify(r.ctx, err)
		}
	}
	r.conn.Release()
	return nil
}

func (r *pgRows) Next(dst []model.Value) bool {
	return r.ahead.Take(dst) || r.next(dst)
}

func (r *pgRows) next(dst []model.Value) bool {
	if r.closed || r.err != nil {
		return false
	}
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			r.err = r.b.classify(r.ctx, err)
		}
		r.Close()
		return false
	}
	raw := r.rows.RawValues()
	for i, v := range raw {
		if v == nil {
			dst[i] = model.Value{}
			continue
		}
		val, err := decodeText(r.oids[i], r.uint[i], v)
		if err != nil {
			r.err = errs.Wrap(errs.Engine, err, "postgres: column "+r.cols[i].Name+": "+err.Error())
			r.Close()
			return false
		}
		dst[i] = val
	}
	return true
}

// decodeText parses one text-format value.
func decodeText(oid uint32, isUint bool, v []byte) (model.Value, error) {
	s := string(v)
	switch oid {
	case oidBool:
		return model.Bool(s == "t"), nil
	case oidInt8, oidInt2, oidInt4:
		i, err := strconv.ParseInt(s, 10, 64)
		return model.Int(i), err
	case oidFloat4, oidFloat8:
		// PostgreSQL 12+ prints the shortest text that reads back exactly
		// (extra_float_digits 1); Go parses NaN and ±Infinity.
		f, err := strconv.ParseFloat(s, 64)
		return model.Float(f), err
	case oidNumeric:
		if isUint {
			u, err := strconv.ParseUint(s, 10, 64)
			return model.Uint(u), err
		}
		return model.Value{Type: model.TypeText, S: s}, nil
	case oidText, oidVarchar, oidBPChar, oidName:
		return model.String(s), nil
	case oidTimestampTZ, oidTimestamp, oidDate:
		us, ok := parseTimestamp(s)
		if !ok {
			// infinity, BC dates: nothing tsgate's µs model holds.
			return model.Value{Type: model.TypeText, S: s}, nil
		}
		return model.Time(us), nil
	}
	return model.Value{Type: model.TypeText, S: s}, nil
}

// parseTimestamp reads ISO output under TimeZone UTC: "2024-03-01
// 12:00:00.000001+00", without the offset for timestamp, date only for
// date.
func parseTimestamp(s string) (int64, bool) {
	s = strings.TrimSuffix(s, "+00")
	for _, layout := range []string{"2006-01-02 15:04:05.999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMicro(), true
		}
	}
	return 0, false
}
