package parquet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	duckdbdrv "github.com/duckdb/duckdb-go/v2"

	"tsgate/dialects"
	"tsgate/dialects/backendkit"
	"tsgate/dialects/duckdb"
	"tsgate/dialects/duckdbsql"
	"tsgate/errs"
	"tsgate/guard"
	"tsgate/internal/sqlrows"
	"tsgate/model"
	"tsgate/translate/target"
)

// emptySchema is the search path of a database the directory does not
// hold: its bare names fail as missing tables.
const emptySchema = "_tsgate_empty"

// Backend reads a directory of Arc's Parquet files. It is a migration
// source: Write is refused.
type Backend struct {
	root      string
	fields    []string
	tags      backendkit.Tags
	connector *duckdbdrv.Connector
	db        *sql.DB
	catalog   *backendkit.Catalog
	gen       target.Generator
}

var _ dialects.Backend = (*Backend)(nil)

// Descriptor registers Arc's Parquet directory as a read-only source.
func Descriptor() dialects.Descriptor {
	return dialects.Descriptor{
		Name: "parquet", Schemes: []string{"parquet"},
		Open: func(ctx context.Context, u string) (dialects.Backend, error) { return Open(ctx, u) },
	}
}

// Open opens spec, "parquet:DIR" (also "parquet://DIR"), DIR being Arc's
// storage directory (its storage.local_path, default ./data/arc), which
// holds DATABASE/MEASUREMENT/YYYY/MM/DD[/HH]/*.parquet. An optional
// "?fields=a,b" names string columns that are fields in measurements
// whose files do not record their tags (see the package comment).
func Open(ctx context.Context, spec string) (*Backend, error) {
	rest, ok := strings.CutPrefix(spec, "parquet:")
	if !ok {
		return nil, errs.Newf(errs.Invalid, "Parquet source %q: want parquet:DIR", spec)
	}
	rest = strings.TrimPrefix(rest, "//")
	dir, rawQuery, _ := strings.Cut(rest, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, errs.Newf(errs.Invalid, "Parquet source options %q: %v", rawQuery, err)
	}
	for k := range q {
		if k != "fields" {
			return nil, errs.Newf(errs.Invalid, "Parquet source option %q is unknown (known: fields)", k)
		}
	}
	if dir == "" {
		return nil, errs.New(errs.Invalid, "Parquet source: no directory given (parquet:DIR)")
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "Parquet source directory")
	}
	if strings.ContainsAny(root, "*?[]{}'") {
		return nil, errs.Newf(errs.Invalid, "Parquet source directory %q: glob characters and quotes are not supported in the path", root)
	}
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return nil, errs.Newf(errs.NotFound, "Parquet source directory %q does not exist or is not a directory", root)
	}
	b := &Backend{root: root, tags: backendkit.DefaultTags(), gen: duckdbsql.New()}
	if f := q.Get("fields"); f != "" {
		b.fields = strings.Split(f, ",")
	}
	b.connector, err = duckdbdrv.NewConnector("", nil)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "parquet: open DuckDB")
	}
	b.db = sql.OpenDB(b.connector)
	// Only the source directory is readable: the engine reads files for
	// the views below and nothing else.
	for _, stmt := range []string{
		"SET allowed_directories = [" + quoteLiteral(root+string(filepath.Separator)) + "]",
		guard.PinZone, // time semantics never follow the host's TZ
		"SET enable_external_access = false",
		"CREATE SCHEMA " + quoteIdent(emptySchema),
	} {
		if _, err := b.db.ExecContext(ctx, stmt); err != nil {
			b.Close()
			return nil, errs.Wrap(errs.Internal, err, "parquet: "+stmt)
		}
	}
	// The files change only when Arc writes or compacts: one scan a
	// minute is enough, and a scan reads every footer.
	b.catalog = &backendkit.Catalog{Load: b.load, TTL: time.Minute, LoadTimeout: time.Minute}
	return b, nil
}

func (b *Backend) Name() string                { return "parquet" }
func (b *Backend) Generator() target.Generator { return b.gen }

// RunsArcSQL: the files are read by DuckDB, Arc's own engine, through
// views named like Arc's measurements, so Arc SQL runs as written.
func (b *Backend) RunsArcSQL() bool { return true }
func (b *Backend) String() string   { return "parquet:" + b.root }

func (b *Backend) Close() error {
	return errors.Join(b.db.Close(), b.connector.Close())
}

func (b *Backend) Ready(ctx context.Context) error {
	if _, err := os.Stat(b.root); err != nil {
		return errs.Wrap(errs.Unavailable, err, "parquet: source directory")
	}
	return b.db.PingContext(ctx)
}

// Write refuses: the directory is Arc's, and Arc owns it.
func (b *Backend) Write(context.Context, string, *model.Batch) (model.WriteResult, error) {
	return model.WriteResult{}, errs.New(errs.Unsupported, "a directory of Arc Parquet files is a read-only migration source")
}

// Databases lists the directories under the root that hold a measurement.
func (b *Backend) Databases(ctx context.Context) ([]string, error) {
	ents, err := os.ReadDir(b.root)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "parquet: read source directory")
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if ms, err := b.measurementDirs(e.Name()); err == nil && len(ms) > 0 {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// Measurements lists db's measurements: its directories holding at least
// one Parquet file.
func (b *Backend) Measurements(ctx context.Context, db string) ([]string, error) {
	tables, err := b.catalog.Tables(ctx, db)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(tables))
	for m := range tables {
		out = append(out, m)
	}
	sort.Strings(out)
	return out, nil
}

func (b *Backend) Schema(db string) target.Schema { return b.catalog.For(db) }

// measurementDirs lists db's measurement directories that hold at least
// one .parquet file anywhere below them.
func (b *Backend) measurementDirs(db string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(b.root, db))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		found := errors.New("found")
		err := filepath.WalkDir(filepath.Join(b.root, db, e.Name()), func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), ".parquet") && !strings.HasPrefix(d.Name(), ".") {
				return found
			}
			return nil
		})
		if errors.Is(err, found) {
			out = append(out, e.Name())
		} else if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// glob is the Parquet files of db.m, as Arc's own queries read them.
func (b *Backend) glob(db, m string) string {
	return filepath.Join(b.root, db, m) + "/**/*.parquet"
}

// load (re)creates db's schema of views, one per measurement over its
// files, and reads their columns and tags.
func (b *Backend) load(ctx context.Context, db string) (map[string][]target.ColumnInfo, error) {
	if strings.ContainsAny(db, "/\\") || db == "" || strings.HasPrefix(db, ".") || strings.HasPrefix(db, "_") {
		return nil, errs.Newf(errs.Invalid, "parquet: database name %q", db)
	}
	ms, err := b.measurementDirs(db)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "parquet: read source directory")
	}
	tables := map[string][]target.ColumnInfo{}
	if len(ms) == 0 {
		return tables, nil
	}
	if _, err := b.db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+quoteIdent(db)); err != nil {
		return nil, errs.Wrap(errs.Engine, err, err.Error())
	}
	for _, m := range ms {
		g := quoteLiteral(b.glob(db, m))
		view := quoteIdent(db) + "." + quoteIdent(m)
		if _, err := b.db.ExecContext(ctx, "CREATE OR REPLACE VIEW "+view+" AS SELECT * FROM read_parquet("+g+", union_by_name = true)"); err != nil {
			return nil, errs.Wrap(errs.Engine, err, fmt.Sprintf("parquet: %s/%s: %v", db, m, err))
		}
		cols, err := b.columns(ctx, view)
		if err != nil {
			return nil, errs.Wrap(errs.Engine, err, fmt.Sprintf("parquet: %s/%s: %v", db, m, err))
		}
		marked, tagged, err := b.arcTags(ctx, g)
		if err != nil {
			return nil, errs.Wrap(errs.Engine, err, fmt.Sprintf("parquet: %s/%s: %v", db, m, err))
		}
		for i := range cols {
			c := &cols[i]
			if c.Type != model.TypeString {
				continue
			}
			if marked {
				c.Tag = slices.Contains(tagged, c.Name)
			} else if known, ok := b.tags[m]; ok {
				c.Tag = slices.Contains(known, c.Name)
			} else {
				c.Tag = !slices.Contains(b.fields, c.Name)
			}
		}
		tables[m] = cols
	}
	return tables, nil
}

// columns describes a view; time is left out (it is always there).
func (b *Backend) columns(ctx context.Context, view string) ([]target.ColumnInfo, error) {
	rows, err := b.db.QueryContext(ctx, "SELECT column_name, column_type FROM (DESCRIBE "+view+")")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []target.ColumnInfo
	hasTime := false
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		if name == "time" {
			hasTime = true
			continue
		}
		cols = append(cols, target.ColumnInfo{Name: name, Type: fieldType(typ)})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !hasTime {
		return nil, errors.New("the files have no time column")
	}
	return cols, nil
}

// arcTags reads the arc:tags key Arc writes in each file's footer (the
// tag columns, comma-separated) and returns their union; marked is false
// when no file carries the key.
func (b *Backend) arcTags(ctx context.Context, glob string) (marked bool, tags []string, err error) {
	rows, err := b.db.QueryContext(ctx, "SELECT DISTINCT CAST(value AS VARCHAR) FROM parquet_kv_metadata("+glob+") WHERE CAST(key AS VARCHAR) = 'arc:tags'")
	if err != nil {
		return false, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return false, nil, err
		}
		marked = true
		for _, t := range strings.Split(v, ",") {
			if t != "" && !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
	}
	return marked, tags, rows.Err()
}

// fieldType is the field type of a column of DuckDB type sqlType: its
// result type when that is a field's; a timestamp other than time, or a
// type read as text, is none.
func fieldType(sqlType string) model.FieldType {
	switch t := sqlrows.FieldType(sqlType); t {
	case model.TypeTime, model.TypeText:
		return model.TypeUnknown
	default:
		return t
	}
}

// Query runs DuckDB SQL (Arc's dialect) with bare names resolving in db.
func (b *Backend) Query(ctx context.Context, db, text string) (model.Rows, error) {
	tables, err := b.catalog.Tables(ctx, db)
	if err != nil {
		return nil, err
	}
	path := emptySchema
	if len(tables) > 0 {
		path = db
	}
	conn, err := b.db.Conn(ctx)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "parquet: connection")
	}
	if _, err := conn.ExecContext(ctx, "SET search_path = "+quoteLiteral(quoteIdent(path))); err != nil {
		conn.Close()
		return nil, errs.Wrap(errs.Engine, err, err.Error())
	}
	rows, err := conn.QueryContext(ctx, text)
	if err != nil {
		conn.Close()
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return nil, errs.Wrap(errs.Timeout, err, "Query timed out")
		case ctx.Err() != nil:
			return nil, errs.Wrap(errs.Canceled, err, "query canceled")
		}
		return nil, errs.Wrap(errs.Engine, err, err.Error())
	}
	return duckdb.NewRows(ctx, conn, rows)
}

func quoteIdent(s string) string   { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func quoteLiteral(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }
