package duckdb

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
	"unsafe"

	bindings "github.com/duckdb/duckdb-go-bindings"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"tsgate/model"
)

// rawConn is the writer's connection through DuckDB's C API, to the same
// database instance duckdb-go opened (its instance cache hands out the one
// instance per file and configuration). database/sql offers no way to
// append a whole column: duckdb-go's Appender takes one interface value
// per cell, about 4 µs a row. Through the C API a data chunk is filled
// straight from the typed column slices — numbers and times copied as
// memory, validity as bit words, short strings inlined — and appended
// 2,048 rows at a time.
//
// Only the writer goroutine uses it, and every write transaction runs on
// it from BEGIN to COMMIT, so the appends are in the transaction that
// creates their tables and columns, and the 204 still means the rows are
// in DuckDB's WAL.
type rawConn struct {
	db   bindings.Database
	conn bindings.Connection
	open bool
}

// openRaw connects to the instance dsn names, with dsn's configuration
// (it must match duckdb-go's for the instance cache to share it).
func openRaw(dsn string) (*rawConn, error) {
	path, query, _ := strings.Cut(dsn, "?")
	params, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("writer connection: %w", err)
	}
	var cfg bindings.Config
	if bindings.CreateConfig(&cfg) == bindings.StateError {
		return nil, errors.New("writer connection: cannot create a DuckDB config")
	}
	defer bindings.DestroyConfig(&cfg)
	set := func(k, v string) error {
		if bindings.SetConfig(cfg, k, v) == bindings.StateError {
			return fmt.Errorf("writer connection: cannot set %s", k)
		}
		return nil
	}
	// duckdb-go sets duckdb_api first; the same options make the same
	// configuration, which the instance cache requires.
	if err := set("duckdb_api", "go"); err != nil {
		return nil, err
	}
	for k, v := range params {
		if len(v) > 0 {
			if err := set(k, v[0]); err != nil {
				return nil, err
			}
		}
	}
	r := &rawConn{}
	var msg string
	if bindings.GetOrCreateFromCache(duckdb.GetInstanceCache(), path, &r.db, cfg, &msg) == bindings.StateError {
		return nil, fmt.Errorf("writer connection: %s", msg)
	}
	if bindings.Connect(r.db, &r.conn) == bindings.StateError {
		bindings.Close(&r.db)
		return nil, errors.New("writer connection: connect failed")
	}
	r.open = true
	return r, nil
}

func (r *rawConn) close() {
	if r != nil && r.open {
		bindings.Disconnect(&r.conn)
		bindings.Close(&r.db)
		r.open = false
	}
}

// exec runs one statement built by tsgate (never user text).
func (r *rawConn) exec(q string) error {
	var res bindings.Result
	defer bindings.DestroyResult(&res)
	if bindings.Query(r.conn, q, &res) == bindings.StateError {
		return errors.New(bindings.ResultError(&res))
	}
	return nil
}

// columnTypes are the DuckDB types a model column is stored as, for the
// check that the appender's columns are what the chunk will hold.
var columnTypes = [...]bindings.Type{
	model.TypeFloat:  bindings.TypeDouble,
	model.TypeInt:    bindings.TypeBigInt,
	model.TypeUint:   bindings.TypeUBigInt,
	model.TypeString: bindings.TypeVarchar,
	model.TypeBool:   bindings.TypeBoolean,
}

// appendTables appends tables (one measurement, the same columns in the
// same order) to schema.table through one appender.
func (r *rawConn) appendTables(schema string, tables []*model.Table) (err error) {
	first := tables[0]
	var app bindings.Appender
	if bindings.AppenderCreateExt(r.conn, "", schema, first.Measurement, &app) == bindings.StateError {
		msg := bindings.AppenderError(app)
		bindings.AppenderDestroy(&app)
		return errors.New(msg)
	}
	defer func() {
		if bindings.AppenderDestroy(&app) == bindings.StateError && err == nil {
			err = errors.New("appender destroy failed")
		}
	}()
	ncol := len(first.Columns) + 1
	types := make([]bindings.LogicalType, 0, ncol)
	defer func() {
		for i := range types {
			bindings.DestroyLogicalType(&types[i])
		}
	}()
	for i := range ncol {
		name := "time"
		want := bindings.TypeTimestampTZ
		if i > 0 {
			c := first.Columns[i-1]
			name, want = c.Name, columnTypes[c.Type]
		}
		if bindings.AppenderAddColumn(app, name) == bindings.StateError {
			return errors.New(bindings.AppenderError(app))
		}
		lt := bindings.AppenderColumnType(app, bindings.IdxT(i))
		types = append(types, lt)
		if got := bindings.GetTypeId(lt); got != want {
			return fmt.Errorf("column %q is stored as DuckDB type %d, not %d", name, got, want)
		}
	}
	chunk := bindings.CreateDataChunk(types)
	defer bindings.DestroyDataChunk(&chunk)
	size := int(bindings.VectorSize())
	for _, t := range tables {
		for off := 0; off < t.Len(); off += size {
			k := min(size, t.Len()-off)
			bindings.DataChunkReset(chunk)
			copy(unsafe.Slice((*int64)(bindings.VectorGetData(bindings.DataChunkGetVector(chunk, 0))), k), t.Time[off:off+k])
			for j, c := range t.Columns {
				fillVector(bindings.DataChunkGetVector(chunk, bindings.IdxT(j+1)), c, off, k)
			}
			bindings.DataChunkSetSize(chunk, bindings.IdxT(k))
			if bindings.AppendDataChunk(app, chunk) == bindings.StateError {
				return errors.New(bindings.AppenderError(app))
			}
		}
	}
	if bindings.AppenderClose(app) == bindings.StateError {
		return errors.New(bindings.AppenderError(app))
	}
	return nil
}

// fillVector writes rows [off, off+k) of c into vec.
func fillVector(vec bindings.Vector, c *model.Column, off, k int) {
	data := bindings.VectorGetData(vec)
	switch c.Type {
	case model.TypeFloat:
		copy(unsafe.Slice((*float64)(data), k), c.F[off:off+k])
	case model.TypeInt:
		copy(unsafe.Slice((*int64)(data), k), c.I[off:off+k])
	case model.TypeUint:
		copy(unsafe.Slice((*uint64)(data), k), c.U[off:off+k])
	case model.TypeBool:
		copy(unsafe.Slice((*bool)(data), k), c.B[off:off+k])
	case model.TypeString:
		// DuckDB's string_t is 16 bytes: a 4-byte length and, up to 12
		// bytes, the string itself zero-padded. Longer strings go to the
		// vector's own heap through the C API. The decoders hand over
		// valid UTF-8 only; anything else is made valid here (each bad
		// run becomes U+FFFD), since a VARCHAR must be UTF-8.
		cells := unsafe.Slice((*[16]byte)(data), k)
		for i, s := range c.S[off : off+k] {
			if !c.Valid[off+i] {
				continue
			}
			if !utf8.ValidString(s) {
				s = strings.ToValidUTF8(s, "\uFFFD")
			}
			if len(s) <= 12 {
				cell := &cells[i]
				*cell = [16]byte{}
				*(*uint32)(unsafe.Pointer(&cell[0])) = uint32(len(s))
				copy(cell[4:], s)
				continue
			}
			bindings.VectorAssignStringElement(vec, bindings.IdxT(i), s)
		}
	}
	setValidity(vec, c.Valid[off:off+k])
}

// setValidity writes valid as vec's validity words. A chunk is reused
// between appends, so a mask left from an earlier chunk is rewritten even
// when these rows are all valid.
func setValidity(vec bindings.Vector, valid []bool) {
	allValid := true
	for _, v := range valid {
		if !v {
			allValid = false
			break
		}
	}
	mask := bindings.VectorGetValidity(vec)
	if mask == nil {
		if allValid {
			return // no mask: every row valid
		}
		bindings.VectorEnsureValidityWritable(vec)
		mask = bindings.VectorGetValidity(vec)
	}
	words := unsafe.Slice((*uint64)(mask), (len(valid)+63)/64)
	for w := range words {
		var bits uint64
		for b := range 64 {
			if i := w*64 + b; i < len(valid) && valid[i] || i >= len(valid) {
				bits |= 1 << b
			}
		}
		words[w] = bits
	}
}

// sameShape reports whether b's columns are a's, in order, with the same
// types: such tables share one appender.
func sameShape(a, b *model.Table) bool {
	if a.Measurement != b.Measurement || len(a.Columns) != len(b.Columns) {
		return false
	}
	for i, c := range a.Columns {
		if d := b.Columns[i]; d.Name != c.Name || d.Type != c.Type {
			return false
		}
	}
	return true
}
