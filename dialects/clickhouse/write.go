package clickhouse

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"tsgate/dialects"
	"tsgate/dialects/backendkit"
	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/target"
)

// DateTime's range in 18.16: seconds as UInt32 since the epoch.
const (
	minDateTimeMicros int64 = 0
	maxDateTimeMicros int64 = (1<<32 - 1) * 1_000_000
)

// Write stores b in db: CREATE DATABASE/TABLE and ALTER TABLE ADD COLUMN
// as needed, metadata first, then one INSERT … FORMAT RowBinary per
// measurement. Time is truncated to the second (DateTime in 18.16).
//
// ClickHouse has no transactions: an insert is atomic per table, but a
// batch of several measurements may land partly if one insert fails, and
// MergeTree keeps duplicates, so a retried batch can store rows twice.
// An error is therefore marked dialects.NotStored only when no row can
// have been stored: it came before the first INSERT of rows was sent, or
// that INSERT's connection was never established. A failure during or
// after an INSERT is not marked (an INSERT larger than one block may even
// be stored in part), nor is anything after a first INSERT succeeded.
// Re-running the schema steps is harmless: CREATE … IF NOT EXISTS, ALTER
// after rereading the columns, and metadata rows versioned by time.
func (b *Backend) Write(ctx context.Context, db string, batch *model.Batch) (model.WriteResult, error) {
	ctx, cancel := context.WithTimeout(ctx, b.Timeout)
	defer cancel()
	db = b.Database(db)
	if err := b.ensureMeta(ctx); err != nil {
		return model.WriteResult{}, dialects.NotStored(err)
	}
	var res model.WriteResult
	stored, kept, err := backendkit.ResolveBatch(ctx, b.Catalog, db, batch, &res, nil)
	if err != nil {
		return model.WriteResult{}, err
	}
	changed := false
	defer func() {
		if changed {
			b.Catalog.Invalidate(db)
		}
	}()
	// sent: an INSERT of rows has left tsgate, so a later failure may
	// leave the batch partly stored.
	sent := false
	for _, t := range kept {
		body, n, dropped, reasons := encodeRows(t)
		res.Rejected += dropped
		res.Conflicts = append(res.Conflicts, reasons...)
		if n == 0 {
			continue
		}
		ch, err := b.ensureTable(ctx, db, t, stored[t.Measurement])
		changed = changed || ch
		if err != nil {
			changed = true
			if !sent {
				err = dialects.NotStored(err)
			}
			return model.WriteResult{}, err
		}
		if err := b.insert(ctx, db, t, body); err != nil {
			changed = true
			if !sent && dialects.NeverConnected(err) {
				err = dialects.NotStored(err)
			}
			return model.WriteResult{}, err
		}
		sent = true
		res.Rows += n
	}
	backendkit.CapConflicts(&res)
	return res, nil
}

func (b *Backend) insert(ctx context.Context, db string, t *model.Table, rows []byte) error {
	var sb strings.Builder
	sb.WriteString("INSERT INTO " + ident(db) + "." + ident(t.Measurement) + " (time")
	for _, c := range t.Columns {
		sb.WriteString(", " + ident(c.Name))
	}
	sb.WriteString(") FORMAT RowBinary\n")
	resp, err := b.post(ctx, "", io.MultiReader(strings.NewReader(sb.String()), bytes.NewReader(rows)), nil)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

func columnDDL(c *model.Column) string {
	switch c.Type {
	case model.TypeFloat:
		return "Nullable(Float64)"
	case model.TypeInt:
		return "Nullable(Int64)"
	case model.TypeUint:
		return "Nullable(UInt64)"
	case model.TypeBool:
		return "Nullable(UInt8)"
	}
	return "Nullable(String)"
}

// ensureTable creates or extends t's table and records its metadata. The
// process-wide write lock makes check-then-ALTER safe within one
// gateway; the stored columns are reread under it.
func (b *Backend) ensureTable(ctx context.Context, db string, t *model.Table, cached []target.ColumnInfo) (bool, error) {
	present := backendkit.Present(t)
	if cached != nil && !metaChanges(t, cached, present) {
		return false, nil
	}
	b.wmu.Lock()
	defer b.wmu.Unlock()
	rows, err := b.queryAll(ctx, `SELECT name FROM system.columns WHERE database = `+quoteString(db)+` AND table = `+quoteString(t.Measurement))
	if err != nil {
		return false, err
	}
	have := map[string]bool{}
	for _, r := range rows {
		have[r[0].S] = true
	}
	exists := len(have) > 0
	meta, err := b.readMeta(ctx, db)
	if err != nil {
		return false, err
	}
	table := ident(db) + "." + ident(t.Measurement)
	if !exists {
		if err := b.exec(ctx, "", "CREATE DATABASE IF NOT EXISTS "+ident(db)); err != nil {
			return true, err
		}
		var sb strings.Builder
		sb.WriteString("CREATE TABLE IF NOT EXISTS " + table + " (time DateTime('UTC')")
		for _, c := range t.Columns {
			sb.WriteString(", " + ident(c.Name) + " " + columnDDL(c))
		}
		sb.WriteString(") ENGINE = MergeTree() PARTITION BY toYYYYMM(time) ORDER BY time")
		if err := b.exec(ctx, "", sb.String()); err != nil {
			return true, err
		}
	} else {
		for _, c := range t.Columns {
			if have[c.Name] {
				continue
			}
			if err := b.exec(ctx, "", "ALTER TABLE "+table+" ADD COLUMN "+ident(c.Name)+" "+columnDDL(c)); err != nil {
				return true, err
			}
		}
	}
	var mb []byte
	ver := strconv.FormatInt(time.Now().UnixNano(), 10)
	row := func(name string, tag, req bool) {
		mb = append(mb, tsvEscape(db)...)
		mb = append(mb, '\t')
		mb = append(mb, tsvEscape(t.Measurement)...)
		mb = append(mb, '\t')
		mb = append(mb, tsvEscape(name)...)
		mb = append(mb, '\t', boolDigit(tag), '\t', boolDigit(req), '\t')
		mb = append(mb, ver...)
		mb = append(mb, '\n')
	}
	for _, c := range t.Columns {
		tag := b.Tags.IsTag(t.Measurement, c)
		prev, known := meta[[2]string{t.Measurement, c.Name}]
		req := !tag && backendkit.RequiredAfter(known, prev.required, exists, present[c.Name])
		if !known || prev.required != req || prev.tag != tag {
			row(c.Name, tag, req)
		}
	}
	for k, m := range meta {
		if k[0] == t.Measurement && m.required && t.Column(k[1]) == nil {
			row(k[1], false, false)
		}
	}
	if len(mb) > 0 {
		q := "INSERT INTO " + metaDB + ".columns (db, measurement, name, is_tag, required, ver) FORMAT TabSeparated\n"
		resp, err := b.post(ctx, "", io.MultiReader(strings.NewReader(q), bytes.NewReader(mb)), nil)
		if err != nil {
			return true, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return true, nil
}

func boolDigit(v bool) byte {
	if v {
		return '1'
	}
	return '0'
}

// metaChanges reports whether t adds a column or makes a Required field
// optional.
func metaChanges(t *model.Table, cached []target.ColumnInfo, present map[string]bool) bool {
	have := map[string]target.ColumnInfo{}
	for _, c := range cached {
		have[c.Name] = c
	}
	for _, c := range t.Columns {
		h, ok := have[c.Name]
		if !ok || (h.Required && !present[c.Name]) {
			return true
		}
	}
	for _, h := range cached {
		if h.Required && t.Column(h.Name) == nil {
			return true
		}
	}
	return false
}

// encodeRows renders t's rows for INSERT … FORMAT RowBinary. Rows whose
// time DateTime cannot hold are left out and counted.
//
// Binary, not text: 18.16 parses a float written as text (TabSeparated,
// toFloat64('1.66')) with a fast routine that can land one ulp off, so a
// stored 1.66 would no longer equal the literal 1.66 in a query. RowBinary
// carries the IEEE bits, exactly. Layout per row: DateTime as UInt32 LE
// seconds; each Nullable column a 1-byte NULL flag, then the value if not
// NULL (Float64, Int64, UInt64 as 8 bytes LE, UInt8, String as a varint
// length and its bytes).
func encodeRows(t *model.Table) ([]byte, int, int, []error) {
	buf := make([]byte, 0, t.Len()*(4+len(t.Columns)*10))
	n, dropped := 0, 0
	var reasons []error
	for i := range t.Len() {
		us := t.Time[i]
		if us < minDateTimeMicros || us > maxDateTimeMicros {
			dropped++
			if len(reasons) < 3 {
				reasons = append(reasons, errs.Newf(errs.Invalid, "measurement %q: time %s is outside ClickHouse 18.16's DateTime range (1970…2106)",
					t.Measurement, time.UnixMicro(us).UTC().Format(time.RFC3339Nano)))
			}
			continue
		}
		if c := nanColumn(t, i); c != "" {
			// NaN compares and sorts differently in ClickHouse (IEEE)
			// than in DuckDB (equal to itself, above +Inf); a stored NaN
			// would make filters on the field answer differently.
			dropped++
			if len(reasons) < 3 {
				reasons = append(reasons, errs.Newf(errs.Invalid, "measurement %q: field %q is NaN, which the ClickHouse backend does not store",
					t.Measurement, c))
			}
			continue
		}
		// Truncate to the second: DateTime has no fraction.
		buf = binary.LittleEndian.AppendUint32(buf, uint32(us/1_000_000))
		for _, c := range t.Columns {
			if !c.Valid[i] {
				buf = append(buf, 1)
				continue
			}
			buf = append(buf, 0)
			switch c.Type {
			case model.TypeFloat:
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(c.F[i]))
			case model.TypeInt:
				buf = binary.LittleEndian.AppendUint64(buf, uint64(c.I[i]))
			case model.TypeUint:
				buf = binary.LittleEndian.AppendUint64(buf, c.U[i])
			case model.TypeBool:
				b := byte(0)
				if c.B[i] {
					b = 1
				}
				buf = append(buf, b)
			default:
				buf = binary.AppendUvarint(buf, uint64(len(c.S[i])))
				buf = append(buf, c.S[i]...)
			}
		}
		n++
	}
	return buf, n, dropped, reasons
}

// nanColumn names row i's first NaN field ("" if none).
func nanColumn(t *model.Table, i int) string {
	for _, c := range t.Columns {
		if c.Type == model.TypeFloat && c.Valid[i] && math.IsNaN(c.F[i]) {
			return c.Name
		}
	}
	return ""
}

var tsvEscaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`, "\x00", `\0`, "\b", `\b`, "\f", `\f`)

func tsvEscape(s string) string { return tsvEscaper.Replace(s) }
