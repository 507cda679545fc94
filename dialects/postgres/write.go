package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"tsgate/dialects"
	"tsgate/dialects/backendkit"
	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/target"
)

// pgEpochMicros is 2000-01-01 UTC, PostgreSQL's binary timestamp origin.
const pgEpochMicros = 946684800000000

// maxIdent is PostgreSQL's identifier length (NAMEDATALEN-1): a longer
// name would be truncated silently and collide.
const maxIdent = 63

// Write stores b in one transaction: create the schema and tables, add
// columns, update tsgate's metadata, COPY the rows (binary format, built
// straight from the typed columns). Rows whose types conflict with the
// stored columns are rejected and counted; a failure rolls everything
// back, so a retried batch is never half stored.
//
// An error is marked dialects.NotStored when no row can have been
// committed: it came before the transaction's COMMIT was sent (the
// transaction is rolled back, by tsgate or by the server when the
// connection dies) or COMMIT answered that it rolled back. A failure
// once COMMIT was sent is ambiguous (the server may have committed
// without the acknowledgement arriving) and is not marked: COPY has no
// key to deduplicate on, so sending the batch again could store it twice.
func (b *Backend) Write(ctx context.Context, db string, batch *model.Batch) (model.WriteResult, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	schema := schemaOf(db)
	if err := b.ensureMeta(ctx); err != nil {
		return model.WriteResult{}, dialects.NotStored(err)
	}
	var res model.WriteResult
	stored, kept, err := backendkit.ResolveBatch(ctx, b.catalog, schema, batch, &res, func(t *model.Table) error {
		if len(t.Measurement) > maxIdent {
			return errs.Newf(errs.Invalid, "measurement %q: longer than PostgreSQL's %d-byte identifiers", t.Measurement, maxIdent)
		}
		return nil
	})
	if err != nil {
		return model.WriteResult{}, err
	}
	ddl := false
	committing := false
	err = b.inTx(ctx, &committing, func(tx pgx.Tx) error {
		ddl = false
		res.Rows = 0
		for _, t := range kept {
			copyData, n, dropped, reasons := b.encodeCopy(t)
			res.Rejected += dropped
			res.Conflicts = append(res.Conflicts, reasons...)
			if n == 0 {
				continue
			}
			changed, err := b.ensureTable(ctx, tx, schema, t, stored[t.Measurement])
			if err != nil {
				return err
			}
			ddl = ddl || changed
			if _, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(copyData), copySQL(schema, t)); err != nil {
				return err
			}
			res.Rows += n
		}
		return nil
	})
	if ddl || err != nil {
		b.catalog.Invalidate(schema)
		b.forgetUints()
	}
	if err != nil {
		cerr := b.classify(ctx, err)
		if !committing || errors.Is(err, pgx.ErrTxCommitRollback) {
			// Rolled back: by tsgate, by the server when the connection
			// died before COMMIT, or COMMIT itself answered ROLLBACK.
			cerr = dialects.NotStored(cerr)
		}
		return model.WriteResult{}, cerr
	}
	backendkit.CapConflicts(&res)
	return res, nil
}

// inTx is pgx.BeginFunc that says, through committing, whether an error
// came from COMMIT or from before it. COMMIT on a connection already
// closed is not sent (the server rolled the transaction back when the
// connection died). Any other COMMIT error is ambiguous: pgconn.SafeToRetry
// is not evidence here, since a connection lost after COMMIT was sent
// surfaces as the same "conn closed" lock error it reports as safe
// (measured: TestWritePostgresOutageNoLossNoDuplicates stored batches
// whose COMMIT failed that way).
func (b *Backend) inTx(ctx context.Context, committing *bool, fn func(pgx.Tx) error) error {
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(ctx) // a dead connection rolls back on the server
		return err
	}
	if tx.Conn().PgConn().IsClosed() {
		_ = tx.Rollback(ctx)
		return errConnLost
	}
	*committing = true
	return tx.Commit(ctx)
}

// errConnLost: the connection closed after the rows were sent and before
// COMMIT; the server rolls the transaction back.
var errConnLost = errors.New("connection closed before COMMIT")

func copySQL(schema string, t *model.Table) string {
	var sb strings.Builder
	sb.WriteString("COPY " + quoteIdent(schema) + "." + quoteIdent(t.Measurement) + " (time")
	for _, c := range t.Columns {
		sb.WriteString(", " + quoteIdent(c.Name))
	}
	sb.WriteString(") FROM STDIN (FORMAT binary)")
	return sb.String()
}

// ensureTable creates or extends t's table and records tags and Required
// fields, inside the write's transaction. A transaction-scoped advisory
// lock per table serializes tsgate writers' DDL and metadata updates
// (also across gateways); the stored columns are reread under it.
func (b *Backend) ensureTable(ctx context.Context, tx pgx.Tx, schema string, t *model.Table, cached []target.ColumnInfo) (bool, error) {
	// Fast path: nothing new and nothing that changes Required.
	present := backendkit.Present(t)
	have := map[string]target.ColumnInfo{}
	for _, c := range cached {
		have[c.Name] = c
	}
	if cached != nil && !b.metaChanges(t, have, present, true) {
		return false, nil
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "tsgate:"+schema+"."+t.Measurement); err != nil {
		return false, err
	}
	// Reread under the lock: another writer may have got here first.
	rows, err := tx.Query(ctx, `SELECT c.column_name, c.data_type, coalesce(c.domain_name, ''), m.name IS NOT NULL, coalesce(m.required, false)
		FROM information_schema.columns c
		LEFT JOIN `+metaSchema+`.columns m ON m.db = c.table_schema AND m.measurement = c.table_name AND m.name = c.column_name
		WHERE c.table_schema = $1 AND c.table_name = $2`, schema, t.Measurement)
	if err != nil {
		return false, err
	}
	type col struct {
		known, req bool
	}
	exists := false
	cur := map[string]col{}
	for rows.Next() {
		var name, typ, domain string
		var known, req bool
		if err := rows.Scan(&name, &typ, &domain, &known, &req); err != nil {
			rows.Close()
			return false, err
		}
		exists = true
		cur[name] = col{known, req}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	table := quoteIdent(schema) + "." + quoteIdent(t.Measurement)
	if !exists {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+quoteIdent(schema)); err != nil {
			return false, err
		}
		var sb strings.Builder
		sb.WriteString("CREATE TABLE " + table + " (time timestamptz NOT NULL")
		for _, c := range t.Columns {
			sb.WriteString(", " + quoteIdent(c.Name) + " " + sqlType(c.Type))
		}
		sb.WriteString(")")
		if _, err := tx.Exec(ctx, sb.String()); err != nil {
			return false, err
		}
		if _, err := tx.Exec(ctx, `CREATE INDEX ON `+table+` (time)`); err != nil {
			return false, err
		}
		for _, c := range t.Columns {
			if err := b.indexTag(ctx, tx, table, t.Measurement, c); err != nil {
				return false, err
			}
		}
		if b.onCreate != nil {
			if err := b.onCreate(ctx, tx, schema, t.Measurement); err != nil {
				return false, err
			}
		}
	} else {
		for _, c := range t.Columns {
			if _, ok := cur[c.Name]; ok {
				continue
			}
			if _, err := tx.Exec(ctx, `ALTER TABLE `+table+` ADD COLUMN IF NOT EXISTS `+quoteIdent(c.Name)+` `+sqlType(c.Type)); err != nil {
				return false, err
			}
			if err := b.indexTag(ctx, tx, table, t.Measurement, c); err != nil {
				return false, err
			}
		}
	}
	// Existing rows: the table existed with a time column already.
	existingRows := exists
	for _, c := range t.Columns {
		tag := b.tags.IsTag(t.Measurement, c)
		prev, ok := cur[c.Name]
		req := !tag && backendkit.RequiredAfter(ok && prev.known, prev.req, existingRows, present[c.Name])
		if ok && prev.known && prev.req == req {
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+metaSchema+`.columns (db, measurement, name, is_tag, required)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (db, measurement, name) DO UPDATE SET required = excluded.required`,
			schema, t.Measurement, c.Name, tag, req); err != nil {
			return false, err
		}
	}
	// Required fields this write does not carry become optional.
	if exists {
		names := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			names[i] = c.Name
		}
		if _, err := tx.Exec(ctx, `UPDATE `+metaSchema+`.columns SET required = false
			WHERE db = $1 AND measurement = $2 AND required AND NOT (name = ANY($3))`, schema, t.Measurement, names); err != nil {
			return false, err
		}
	}
	return true, nil
}

// indexTag indexes a new tag column with time where Backend.indexed names
// it: memtrace lists an agent's or a session's newest memories, and with
// the time index alone PostgreSQL walks most of the table for a rare tag
// value (measured at 1M memories: a session's list 554 ms, 2.6 ms with
// the index). Other tags are not indexed: each index costs every write
// (TSBS cpu with its tags indexed ingested at a third of the rate).
func (b *Backend) indexTag(ctx context.Context, tx pgx.Tx, table, measurement string, c *model.Column) error {
	if !b.tags.IsTag(measurement, c) || !slices.Contains(b.indexed[measurement], c.Name) {
		return nil
	}
	_, err := tx.Exec(ctx, `CREATE INDEX ON `+table+` (`+quoteIdent(c.Name)+`, time)`)
	return err
}

// metaChanges reports whether writing t changes the table or tsgate's
// metadata: a new column, or a Required field some row lacks (or that
// the write does not carry).
func (b *Backend) metaChanges(t *model.Table, have map[string]target.ColumnInfo, present map[string]bool, exists bool) bool {
	for _, c := range t.Columns {
		h, ok := have[c.Name]
		if !ok {
			return true
		}
		if h.Required && !present[c.Name] {
			return true
		}
	}
	for _, h := range have {
		if h.Required && t.Column(h.Name) == nil {
			return true
		}
	}
	return false
}

// encodeCopy builds the binary COPY stream for t. Rows PostgreSQL cannot
// store are left out and counted: a string with a NUL byte or invalid
// UTF-8 (text columns reject both).
func (b *Backend) encodeCopy(t *model.Table) ([]byte, int, int, []error) {
	buf := make([]byte, 0, 64+t.Len()*(8+len(t.Columns)*16))
	buf = append(buf, "PGCOPY\n\xff\r\n\x00"...)
	buf = binary.BigEndian.AppendUint32(buf, 0) // flags
	buf = binary.BigEndian.AppendUint32(buf, 0) // header extension
	n, dropped := 0, 0
	var reasons []error
	nf := uint16(len(t.Columns) + 1)
rows:
	for i := range t.Len() {
		start := len(buf)
		buf = binary.BigEndian.AppendUint16(buf, nf)
		buf = binary.BigEndian.AppendUint32(buf, 8)
		buf = binary.BigEndian.AppendUint64(buf, uint64(t.Time[i]-pgEpochMicros))
		for _, c := range t.Columns {
			if !c.Valid[i] {
				buf = binary.BigEndian.AppendUint32(buf, math.MaxUint32) // -1: NULL
				continue
			}
			switch c.Type {
			case model.TypeFloat:
				buf = binary.BigEndian.AppendUint32(buf, 8)
				buf = binary.BigEndian.AppendUint64(buf, math.Float64bits(c.F[i]))
			case model.TypeInt:
				buf = binary.BigEndian.AppendUint32(buf, 8)
				buf = binary.BigEndian.AppendUint64(buf, uint64(c.I[i]))
			case model.TypeUint:
				buf = appendNumeric(buf, c.U[i])
			case model.TypeBool:
				buf = binary.BigEndian.AppendUint32(buf, 1)
				if c.B[i] {
					buf = append(buf, 1)
				} else {
					buf = append(buf, 0)
				}
			case model.TypeString:
				s := c.S[i]
				if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
					buf = buf[:start]
					dropped++
					if len(reasons) < 3 {
						reasons = append(reasons, errs.Newf(errs.Invalid,
							"measurement %q: column %q holds a NUL byte or invalid UTF-8, which PostgreSQL text cannot store", t.Measurement, c.Name))
					}
					continue rows
				}
				buf = binary.BigEndian.AppendUint32(buf, uint32(len(s)))
				buf = append(buf, s...)
			}
		}
		n++
	}
	buf = binary.BigEndian.AppendUint16(buf, math.MaxUint16) // trailer: -1
	return buf, n, dropped, reasons
}

// appendNumeric writes u as a length-prefixed binary numeric: base-10000
// digits, most significant first, weight = digits-1, scale 0.
func appendNumeric(buf []byte, u uint64) []byte {
	var digits [5]uint16
	nd := 0
	for v := u; v > 0; v /= 10000 {
		digits[nd] = uint16(v % 10000)
		nd++
	}
	buf = binary.BigEndian.AppendUint32(buf, uint32(8+2*nd))
	buf = binary.BigEndian.AppendUint16(buf, uint16(nd))
	w := nd - 1
	if nd == 0 {
		w = 0
	}
	buf = binary.BigEndian.AppendUint16(buf, uint16(int16(w)))
	buf = binary.BigEndian.AppendUint16(buf, 0) // sign: positive
	buf = binary.BigEndian.AppendUint16(buf, 0) // display scale
	for i := nd - 1; i >= 0; i-- {
		buf = binary.BigEndian.AppendUint16(buf, digits[i])
	}
	return buf
}
