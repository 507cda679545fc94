package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"tsgate/auth"
	"tsgate/dialects"
	"tsgate/dialects/registry"
	"tsgate/errs"
	"tsgate/guard"
	"tsgate/query"
	"tsgate/translate"
	"tsgate/translate/target"
)

// runTranslate implements `tsgate translate [--to TARGET] [--schema FILE |
// --backend URL] [--db DB] [--from arc|postgres] 'SQL'`: it prints the
// translation and its notes, or the refusal. Exit 0 on success, 2 on a
// refusal (SQLSTATE 0A000), 1 on usage and parse errors.
//
// With --backend it translates as the server in front of that backend
// would: the backend's generator (unless --to names another), its live
// schema (tags, fields, types, which fields every point has), and the
// database the URL names unless --db names one (else Arc's "default").
func runTranslate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("translate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	to := fs.String("to", "", "target: "+strings.Join(registry.GeneratorNames(), "|")+" (default with --backend: the backend's)")
	schemaFile := fs.String("schema", "", `JSON schema file: {"measurement": {"tags": [...], "fields": {"name": "float"}, "required": ["name"]}}, optionally wrapped as {"database": "db", "measurements": {...}}`)
	backendURL := fs.String("backend", "", "read the schema live from this backend (a backend.url) and translate for it")
	dbFlag := fs.String("db", "", "the request's database: bare names resolve there (default: the schema file's or the backend URL's)")
	from := fs.String("from", "arc", "source dialect: arc (DuckDB SQL) or postgres")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tsgate translate [--to TARGET] [--schema FILE | --backend URL] [--db DB] [--from arc|postgres] 'SQL'")
		fs.PrintDefaults()
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return 1
	}
	if (*to == "" && *backendURL == "") || len(pos) != 1 || (*schemaFile != "" && *backendURL != "") {
		fs.Usage()
		return 1
	}
	opts := []translate.Option{translate.WithCacheSize(0)}
	switch *from {
	case "arc", "duckdb":
	case "postgres", "pg":
		opts = append(opts, translate.WithSource(translate.FromPostgres))
	default:
		fmt.Fprintf(stderr, "unknown source dialect %q\n", *from)
		return 1
	}
	var (
		schema target.Schema
		gen    target.Generator
		db     = *dbFlag
		live   dialects.Backend
	)
	switch {
	case *schemaFile != "":
		data, err := os.ReadFile(*schemaFile)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		sf, err := parseSchemaFile(data)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", *schemaFile, err)
			return 1
		}
		schema = sf.Schema
		if db == "" {
			db = sf.Database
		}
	case *backendURL != "":
		be, err := registry.Open(ctx, *backendURL)
		if err != nil {
			fmt.Fprintln(stderr, "tsgate translate: backend:", errs.As(err).Msg)
			return 1
		}
		defer be.Close()
		if db == "" {
			if d, ok := be.(dialects.DatabaseInURL); ok {
				db = d.URLDatabase()
			}
		}
		if db == "" {
			db = "default" // as the Arc API does for a request naming none
		}
		// The catalog loads lazily and keeps a failure to itself; ask
		// first, so an unreachable backend is an error, not an
		// unknown measurement.
		if _, err := be.Measurements(ctx, db); err != nil {
			fmt.Fprintf(stderr, "tsgate translate: backend %s: %s\n", be.Name(), errs.As(err).Msg)
			return 1
		}
		schema = be.Schema(db)
		gen = be.Generator()
		live = be
	}
	if *to != "" {
		if gen, err = registry.Generator(*to); err != nil {
			fmt.Fprintln(stderr, errs.As(err).Msg+"; "+errs.As(err).Hint)
			return 1
		}
	}
	tr, err := translate.New(opts...).TranslateIn(ctx, pos[0], gen, db, schema)
	if err != nil && errs.CodeOf(err) == errs.Unsupported && live != nil && *to == "" {
		// What the server does with it: split, when it can.
		if plan, perr := splitPlan(ctx, live, db, pos[0], *from); perr == nil && plan.Hybrid != nil {
			fmt.Fprintln(stdout, plan.String())
			return 0
		}
	}
	if err != nil {
		e := errs.As(err)
		kind := "error"
		if e.Code == errs.Unsupported {
			kind = "refused"
		}
		fmt.Fprintf(stderr, "%s (SQLSTATE %s): %s\n", kind, e.State(), e.Msg)
		if e.Position > 0 {
			fmt.Fprintf(stderr, "  at character %d\n", e.Position)
		}
		if e.Hint != "" {
			fmt.Fprintf(stderr, "  hint: %s\n", e.Hint)
		}
		if errors.Is(err, translate.ErrDuckDBOnly) {
			fmt.Fprintln(stderr, "  (DuckDB-only syntax: the duckdb backend runs it as written)")
		}
		if e.Code == errs.Unsupported {
			return 2
		}
		return 1
	}
	if tr.Catalog != nil {
		fmt.Fprintf(stdout, "-- answered by the gateway's catalog: %s\n", tr.Catalog)
		return 0
	}
	if tr.Const != nil {
		fmt.Fprintf(stdout, "-- %s\n", tr.Const)
		return 0
	}
	fmt.Fprintln(stdout, tr.Text)
	for _, n := range tr.Notes {
		fmt.Fprintf(stdout, "-- note: %s\n", n)
	}
	for _, p := range tr.Post {
		fmt.Fprintf(stdout, "-- gateway step: %s\n", p.String())
	}
	return 0
}

// splitPlan is the plan the server would make for sql on be: with the
// gateway's finishing engine, a query the backend refuses whole may be
// split (pushed-down scans, a local finish).
func splitPlan(ctx context.Context, be dialects.Backend, db, sql, from string) (*query.Plan, error) {
	g, err := guard.New()
	if err != nil {
		return nil, err
	}
	defer g.Close()
	local, err := query.NewLocal(g, query.DefaultLocalLimits())
	if err != nil {
		return nil, err
	}
	defer local.Close()
	src := translate.FromArc
	if from == "postgres" || from == "pg" {
		src = translate.FromPostgres
	}
	return query.New(be, query.WithLocal(local)).Plan(auth.Internal(ctx), db, sql, src)
}
