package influxql

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"tsgate/dialects"
	"tsgate/dialects/backendkit"
	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/target"
)

// maxBody bounds one /write request; a larger batch is sent in several,
// each acknowledged before the next. InfluxDB overwrites a point with the
// same series and time, so a batch retried after a partial failure is
// stored once.
const maxBody = 8 << 20

// Write stores b in db as line protocol, creating the database when
// needed. InfluxDB creates measurements and fields itself (schema on
// write); tsgate first resolves each table's types against the fields
// InfluxDB already has, so a conflicting row is rejected and counted here
// instead of failing the whole request there, and records which fields
// are Required before the data is written.
func (b *Backend) Write(ctx context.Context, db string, batch *model.Batch) (model.WriteResult, error) {
	ctx, cancel := context.WithTimeout(ctx, b.Timeout)
	defer cancel()
	db = b.Database(db)
	if db == "" {
		return model.WriteResult{}, errs.New(errs.Invalid, "influxdb: no database given and none in the backend URL")
	}
	if err := b.ensureDatabase(ctx, db); err != nil {
		return model.WriteResult{}, dialects.NotStored(err)
	}
	// The lock covers reading the catalog through writing the metadata:
	// the next writer must see this one's metadata, or it could take a
	// field that just became optional for a new one. The rows themselves
	// are written outside it; metadata only ever turns Required off, and
	// each writer turns it off before writing the rows that need it.
	b.wmu.Lock()
	locked := true
	defer func() {
		if locked {
			b.wmu.Unlock()
		}
	}()
	tables, err := b.Catalog.Tables(ctx, db)
	if err != nil {
		return model.WriteResult{}, dialects.NotStored(err)
	}
	var res model.WriteResult
	var kept []*model.Table
	for _, t := range batch.Tables {
		t, dropped, reasons := uintsAsInts(t)
		res.Rejected += dropped
		res.Conflicts = append(res.Conflicts, reasons...)
		stored := backendkit.ByName(tables[t.Measurement])
		t, ok := backendkit.Resolve(t, func(name string) (model.FieldType, bool) {
			c, ok := stored[name]
			if !ok || (!c.Tag && c.Type == model.TypeUnknown) {
				// Unknown: only in tsgate's metadata so far (another
				// writer's rows are on their way), or a type tsgate
				// does not model; InfluxDB judges it.
				return 0, false
			}
			if c.Tag {
				return model.TypeString, true
			}
			return c.Type, true
		}, &res)
		if ok {
			kept = append(kept, t)
		}
	}
	var body []byte
	var meta []byte
	changed := false
	var tooBig []error
	for _, t := range kept {
		lines, dropped, reasons := b.encode(nil, t)
		res.Rejected += dropped
		tooBig = append(tooBig, reasons...)
		written := t.Len() - dropped
		res.Rows += written
		if written == 0 {
			continue
		}
		var ch bool
		meta, ch = b.metaLines(meta, t, tables[t.Measurement])
		changed = changed || ch
		body = append(body, lines...)
	}
	res.Conflicts = append(res.Conflicts, tooBig...)
	backendkit.CapConflicts(&res)
	if len(meta) > 0 {
		// Metadata first: Required may only turn false before the rows
		// that make it false exist.
		if err := b.writeLines(ctx, db, meta); err != nil {
			b.Catalog.Invalidate(db)
			// Metadata only: no row was sent yet.
			return model.WriteResult{}, dialects.NotStored(err)
		}
	}
	if changed {
		b.Catalog.Invalidate(db)
	}
	b.wmu.Unlock()
	locked = false
	for first := true; len(body) > 0; first = false {
		n := len(body)
		if n > maxBody {
			n = bytes.LastIndexByte(body[:maxBody], '\n') + 1
			if n <= 0 {
				n = len(body)
			}
		}
		if err := b.writeLines(ctx, db, body[:n]); err != nil {
			b.Catalog.Invalidate(db)
			if first && dialects.NeverConnected(err) {
				err = dialects.NotStored(err)
			}
			return model.WriteResult{}, err
		}
		body = body[n:]
	}
	if changed {
		// Again: SHOW FIELD KEYS now lists the new fields.
		b.Catalog.Invalidate(db)
	}
	return res, nil
}

// IdempotentWrites is true: InfluxDB stores a point with the same
// measurement, tag set and time as the one it replaces, so a batch
// written again after a failure (even one that left it partly stored) is
// stored once. tsgate's Required metadata points are recomputed on each
// attempt and overwrite the same way. The gateway retries on it
// (dialects.WriteRetrySafe). Write still marks failures that stored no
// row (dialects.NotStored), so a client can be told so.
func (b *Backend) IdempotentWrites() bool { return true }

// uintsAsInts rewrites t's uint64 columns as int64 ones: InfluxDB 1.x
// builds have no unsigned type (it is behind a build tag), so an unsigned
// field is stored, and later resolved against, as integer. A value above
// int64's range is rejected with its row.
func uintsAsInts(t *model.Table) (*model.Table, int, []error) {
	if !slices.ContainsFunc(t.Columns, func(c *model.Column) bool { return c.Type == model.TypeUint }) {
		return t, 0, nil
	}
	out := &model.Table{Measurement: t.Measurement}
	for _, c := range t.Columns {
		typ := c.Type
		if typ == model.TypeUint {
			typ = model.TypeInt
		}
		if out.Column(c.Name) == nil {
			// Columns of one name with several types: the first one's
			// column is made here, the others go to AppendRow's variants.
			if _, err := out.AddColumn(c.Name, c.Tag, typ); err != nil {
				return t, 0, nil
			}
		}
	}
	dropped := 0
	var reasons []error
	cells := make([]model.Cell, 0, len(t.Columns))
rows:
	for i := range t.Len() {
		cells = cells[:0]
		for _, c := range t.Columns {
			v := c.At(i)
			if v.Type == model.TypeUint {
				if v.U > math.MaxInt64 {
					dropped++
					if len(reasons) < 3 {
						reasons = append(reasons, lineProblem(t.Measurement,
							"field %q value %d exceeds InfluxDB 1.x's integer range", c.Name, v.U))
					}
					continue rows
				}
				v = model.Int(int64(v.U))
			}
			cells = append(cells, model.Cell{Name: c.Name, Tag: c.Tag, Value: v})
		}
		if err := out.AppendRow(t.Time[i], cells); err != nil {
			dropped++
			continue
		}
	}
	return out, dropped, reasons
}

// metaLines appends the metadata points that change for t's write and
// reports whether anything changed. The measurement's stored columns say
// whether it already holds rows and which fields were Required.
func (b *Backend) metaLines(dst []byte, t *model.Table, stored []target.ColumnInfo) ([]byte, bool) {
	present := backendkit.Present(t)
	existing := len(stored) > 0
	prev := backendkit.ByName(stored)
	changed := false
	// key starts a metadata point for column name of t's measurement;
	// kind is ",k=tag" for a tag, "" for a field.
	key := func(name, kind string) {
		changed = true
		dst = append(dst, metaMeasurement...)
		dst = append(dst, ",f="...)
		dst = appendEscaped(dst, name, tagEscaper)
		dst = append(dst, kind+",m="...)
		dst = appendEscaped(dst, t.Measurement, tagEscaper)
	}
	emit := func(field string, required bool) {
		key(field, "")
		dst = fmt.Appendf(dst, " required=%t 0\n", required)
	}
	emitTag := func(tag string, required, empty bool) {
		key(tag, ",k=tag")
		dst = fmt.Appendf(dst, " required=%t,empty=%t 0\n", required, empty)
	}
	for _, c := range t.Columns {
		if b.Tags.IsTag(t.Measurement, c) {
			// InfluxDB drops an empty tag value, so whether a point
			// lacked the tag or carried '' is kept here: both flags only
			// ever turn from clean to set.
			empty := false
			for i, ok := range c.Valid {
				if ok && c.S[i] == "" {
					empty = true
					break
				}
			}
			p, known := prev[c.Name]
			switch {
			case !known:
				emitTag(c.Name, !existing && present[c.Name], empty)
			case p.Untracked:
				// Points from before the bookkeeping: their history is
				// unknown, so this write's facts cannot make it cleaner.
			default:
				req, emp := p.Required && present[c.Name], p.EmptyValues || empty
				if req != p.Required || emp != p.EmptyValues {
					emitTag(c.Name, req, emp)
				}
			}
			continue
		}
		p, known := prev[c.Name]
		req := backendkit.RequiredAfter(known, p.Required, existing, present[c.Name])
		if !known || p.Required != req {
			emit(c.Name, req)
		}
	}
	// Fields (and tracked tags) this write does not carry at all are
	// absent from its rows.
	for _, c := range stored {
		if t.Column(c.Name) != nil || !c.Required {
			continue
		}
		switch {
		case !c.Tag:
			emit(c.Name, false)
		case !c.Untracked:
			emitTag(c.Name, false, c.EmptyValues)
		}
	}
	return dst, changed
}

type escaper struct{ comma, eq, space bool }

var (
	measEscaper = escaper{comma: true, space: true}
	tagEscaper  = escaper{comma: true, eq: true, space: true}
)

func appendEscaped(dst []byte, s string, e escaper) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c == ',' && e.comma) || (c == '=' && e.eq) || (c == ' ' && e.space) {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return dst
}

// lineProblem says why a row cannot be written as line protocol; the
// row is rejected and counted, never sent half-right.
func lineProblem(m string, format string, args ...any) error {
	return errs.Newf(errs.Invalid, "measurement %q: %s", m, fmt.Sprintf(format, args...))
}

// encode appends t's rows as line protocol with µs timestamps. Rows that
// line protocol cannot carry are dropped and counted: a row with no field
// value, a NaN or infinite float, a uint64 above int64's range, a tag
// value with a newline or a trailing backslash (line protocol has no
// escape for either).
func (b *Backend) encode(dst []byte, t *model.Table) ([]byte, int, []error) {
	var tags, fields []*model.Column
	for _, c := range t.Columns {
		if b.Tags.IsTag(t.Measurement, c) {
			tags = append(tags, c)
		} else {
			fields = append(fields, c)
		}
	}
	// InfluxDB wants tags sorted by key for its fastest path.
	slices.SortFunc(tags, func(a, b *model.Column) int { return strings.Compare(a.Name, b.Name) })
	dropped := 0
	var reasons []error
	reject := func(err error) {
		dropped++
		if len(reasons) < 3 {
			reasons = append(reasons, err)
		}
	}
	var num []byte
rows:
	for i := range t.Len() {
		start := len(dst)
		dst = appendEscaped(dst, t.Measurement, measEscaper)
		for _, c := range tags {
			if !c.Valid[i] {
				continue
			}
			v := tagText(c, i)
			if v == "" {
				continue // InfluxDB has no empty tag value: it is absence
			}
			if strings.ContainsAny(v, "\n\r") || strings.HasSuffix(v, `\`) {
				dst = dst[:start]
				reject(lineProblem(t.Measurement, "tag %q value cannot be written in line protocol", c.Name))
				continue rows
			}
			dst = append(dst, ',')
			dst = appendEscaped(dst, c.Name, tagEscaper)
			dst = append(dst, '=')
			dst = appendEscaped(dst, v, tagEscaper)
		}
		sep := byte(' ')
		nf := 0
		for _, c := range fields {
			if !c.Valid[i] {
				continue
			}
			num = num[:0]
			switch c.Type {
			case model.TypeFloat:
				f := c.F[i]
				if math.IsNaN(f) || math.IsInf(f, 0) {
					dst = dst[:start]
					reject(lineProblem(t.Measurement, "field %q is %v, which InfluxDB cannot store", c.Name, f))
					continue rows
				}
				num = strconv.AppendFloat(num, f, 'g', -1, 64)
			case model.TypeInt:
				num = strconv.AppendInt(num, c.I[i], 10)
				num = append(num, 'i')
			case model.TypeUint:
				if c.U[i] > math.MaxInt64 {
					dst = dst[:start]
					reject(lineProblem(t.Measurement, "field %q value %d exceeds InfluxDB 1.x's integer range", c.Name, c.U[i]))
					continue rows
				}
				num = strconv.AppendUint(num, c.U[i], 10)
				num = append(num, 'i')
			case model.TypeBool:
				if c.B[i] {
					num = append(num, 't')
				} else {
					num = append(num, 'f')
				}
			case model.TypeString:
				num = append(num, '"')
				s := c.S[i]
				for j := 0; j < len(s); j++ {
					if s[j] == '"' || s[j] == '\\' {
						num = append(num, '\\')
					}
					num = append(num, s[j])
				}
				num = append(num, '"')
			default:
				continue
			}
			dst = append(dst, sep)
			sep = ','
			dst = appendEscaped(dst, c.Name, tagEscaper)
			dst = append(dst, '=')
			dst = append(dst, num...)
			nf++
		}
		if nf == 0 {
			dst = dst[:start]
			reject(lineProblem(t.Measurement, "a row with no field value cannot be stored in InfluxDB"))
			continue
		}
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, t.Time[i], 10)
		dst = append(dst, '\n')
	}
	return dst, dropped, reasons
}

// tagText renders a tag cell; tags are strings, but a configured tag
// column is only ever a string column (backendkit.Tags.IsTag).
func tagText(c *model.Column, i int) string {
	if c.Type == model.TypeString {
		return c.S[i]
	}
	return c.At(i).S
}
