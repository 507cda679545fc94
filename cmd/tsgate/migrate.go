package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"tsgate/dialects"
	"tsgate/dialects/duckdb"
	"tsgate/dialects/parquet"
	"tsgate/dialects/registry"
	"tsgate/gateway"
	"tsgate/migrate"
)

// openSide opens a migration end: a backend URL, embedded:DIR for the
// embedded store in data directory DIR, or parquet:DIR for Arc's storage
// directory (a source only).
func openSide(ctx context.Context, spec string) (*migrate.Side, func() error, error) {
	if strings.HasPrefix(spec, "parquet:") {
		b, err := parquet.Open(ctx, spec)
		if err != nil {
			return nil, nil, err
		}
		return &migrate.Side{Backend: b}, b.Close, nil
	}
	if dir, ok := strings.CutPrefix(spec, "embedded:"); ok {
		s, err := duckdb.Open(ctx, gateway.StorePath(dir))
		if err != nil {
			return nil, nil, err
		}
		return &migrate.Side{Backend: duckdb.NewBackend(s)}, s.Close, nil
	}
	be, err := registry.Open(ctx, spec)
	if err != nil {
		return nil, nil, err
	}
	return &migrate.Side{Backend: be}, be.Close, nil
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fl.SetOutput(stderr)
	from := fl.String("from", "", "source: a backend URL (arc://host:8000/db?token=…), embedded:DATA_DIR, or parquet:ARC_STORAGE_DIR (Arc's Parquet files)")
	to := fl.String("to", "", "target: a backend URL or embedded:DATA_DIR")
	db := fl.String("db", "", "database to copy (default: the one the source URL names, else \"default\")")
	measurements := fl.String("measurements", "", "comma-separated measurements (default: all)")
	since := fl.String("since", "", "copy rows at or after this RFC 3339 time")
	until := fl.String("until", "", "copy rows before this RFC 3339 time")
	chunk := fl.Duration("chunk", time.Hour, "time span copied per write")
	checkpoint := fl.String("checkpoint", "", "checkpoint file for resuming (default: tsgate-migrate-<db>.json)")
	verify := fl.Bool("verify", true, "compare counts and per-hour aggregates afterwards")
	allowLoss := fl.Bool("allow-precision-loss", false, "copy even when the target stores time more coarsely than the source (timestamps are truncated)")
	allowEmpty := fl.Bool("allow-empty", false, "succeed when the source has nothing to copy (by default that is an error: usually a wrong database or time range)")
	tags := map[string][]string{}
	fl.Func("tags", "MEASUREMENT=COL,COL: string columns to write as tags when the source cannot say (an Arc API source knows memtrace's events only); repeatable", func(v string) error {
		m, cols, ok := strings.Cut(v, "=")
		if !ok || m == "" || cols == "" {
			return fmt.Errorf("want MEASUREMENT=COL,COL, got %q", v)
		}
		tags[m] = append(tags[m], strings.Split(cols, ",")...)
		return nil
	})
	if !noArgs(fl, args, stderr) {
		return 2
	}
	if *from == "" || *to == "" {
		fmt.Fprintln(stderr, "usage: tsgate migrate --from SOURCE --to TARGET [--db DB] [--measurements a,b] [--since T] [--until T]")
		return 2
	}
	src, closeSrc, err := openSide(ctx, *from)
	if err != nil {
		fmt.Fprintln(stderr, "tsgate migrate: source:", err)
		return 1
	}
	defer closeSrc()
	dst, closeDst, err := openSide(ctx, *to)
	if err != nil {
		fmt.Fprintln(stderr, "tsgate migrate: target:", err)
		return 1
	}
	defer closeDst()
	database, err := migrateDatabase(*db, src, dst)
	if err != nil {
		fmt.Fprintln(stderr, "tsgate migrate:", err)
		return 2
	}
	opt := migrate.Options{Database: database, Chunk: *chunk, Checkpoint: *checkpoint, AllowPrecisionLoss: *allowLoss, Tags: tags}
	if opt.Checkpoint == "" {
		opt.Checkpoint = "tsgate-migrate-" + database + ".json"
	}
	if *measurements != "" {
		opt.Measurements = strings.Split(*measurements, ",")
	}
	for _, p := range []struct {
		s   string
		dst *time.Time
	}{{*since, &opt.Since}, {*until, &opt.Until}} {
		if p.s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, p.s)
		if err != nil {
			fmt.Fprintln(stderr, "tsgate migrate:", err)
			return 2
		}
		*p.dst = t
	}
	opt.Precision = func(r *migrate.PrecisionReport) { fmt.Fprint(stdout, r) }
	bar := newProgress(stderr)
	opt.Progress = func(p migrate.Progress) {
		done := p.Total + p.Skipped
		pct := 100.0
		if p.Expected > 0 {
			pct = 100 * float64(done) / float64(p.Expected)
		}
		bar.show(fmt.Sprintf("%s through %s: %s/%s rows (%.0f%%), %s", p.Measurement, p.ChunkEnd.Format(time.RFC3339),
			thousands(done), thousands(p.Expected), pct, rateETA(done, p.Expected, p.Elapsed, "rows")), done >= p.Expected)
	}
	res, err := migrate.Backfill(ctx, src, dst, opt)
	bar.done()
	var lossErr *migrate.PrecisionLossError
	if errors.As(err, &lossErr) {
		fmt.Fprintln(stderr, "tsgate migrate:", err)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "tsgate migrate:", err)
		fmt.Fprintf(stderr, "progress is saved in %s: run the same command again to resume\n", opt.Checkpoint)
		return 1
	}
	if empty(res) {
		fmt.Fprintf(stdout, "nothing to copy: the source has %s in database %q%s\n", emptyWhat(res), database, rangeNote(opt))
		if *allowEmpty {
			return 0
		}
		fmt.Fprintln(stderr, "tsgate migrate: nothing to copy (check --db, the source URL's database and --since/--until; --allow-empty accepts it)")
		return 1
	}
	var total int64
	for m, n := range res.Rows {
		fmt.Fprintf(stdout, "%s: copied %d rows", m, n)
		if s := res.Skipped[m]; s > 0 {
			fmt.Fprintf(stdout, " (%d already on the target)", s)
		}
		fmt.Fprintln(stdout)
		total += n
	}
	fmt.Fprintf(stdout, "copied %d rows in %s (%.0f rows/s)\n", total, res.Elapsed.Round(time.Millisecond), float64(total)/res.Elapsed.Seconds())
	if !*verify {
		return 0
	}
	diffs, err := migrate.Verify(ctx, src, dst, opt)
	if err != nil {
		fmt.Fprintln(stderr, "tsgate migrate: verify:", err)
		return 1
	}
	mismatches, unchecked := 0, 0
	for _, d := range diffs {
		if d.Unchecked {
			unchecked++
			fmt.Fprintf(stdout, "NOT COMPARED %s: %s\n", d.Measurement, d.What)
		} else {
			mismatches++
			fmt.Fprintf(stdout, "MISMATCH %s: %s\n", d.Measurement, d.What)
		}
	}
	if mismatches > 0 {
		return 1
	}
	if unchecked > 0 {
		fmt.Fprintf(stdout, "verified: row counts and per-hour counts and sums agree, except the %d comparisons listed above that the target's language cannot express\n", unchecked)
		return 0
	}
	fmt.Fprintln(stdout, "verified: row counts and per-hour counts and sums agree")
	return 0
}

// migrateDatabase is the database a migration copies: --db, else the one
// the source URL names (arc://host:8000/DB), else Arc's "default". A URL
// naming another database than the copy's is an error rather than a copy
// somewhere the user did not mean.
func migrateDatabase(flagDB string, src, dst *migrate.Side) (string, error) {
	named := func(s *migrate.Side) string {
		if d, ok := s.Backend.(dialects.DatabaseInURL); ok {
			return d.URLDatabase()
		}
		return ""
	}
	db := flagDB
	from, to := named(src), named(dst)
	if db == "" {
		db = from
	}
	if db == "" {
		db = "default"
	}
	if from != "" && from != db {
		return "", fmt.Errorf("--db %q but the source URL names database %q: give one of them, or the same", db, from)
	}
	if to != "" && to != db {
		return "", fmt.Errorf("the target URL names database %q but the copy is of database %q, which keeps its name on the target: name %q in the target URL or leave it out", to, db, db)
	}
	return db, nil
}

// empty reports a run whose source had no row to copy.
func empty(res *migrate.Result) bool {
	for _, n := range res.Source {
		if n > 0 {
			return false
		}
	}
	return true
}

func emptyWhat(res *migrate.Result) string {
	if len(res.Source) == 0 {
		return "no measurements"
	}
	ms := slices.Sorted(maps.Keys(res.Source))
	return fmt.Sprintf("no rows (measurements: %s)", strings.Join(ms, ", "))
}

func rangeNote(opt migrate.Options) string {
	switch {
	case !opt.Since.IsZero() && !opt.Until.IsZero():
		return fmt.Sprintf(" between %s and %s", opt.Since.Format(time.RFC3339Nano), opt.Until.Format(time.RFC3339Nano))
	case !opt.Since.IsZero():
		return " since " + opt.Since.Format(time.RFC3339Nano)
	case !opt.Until.IsZero():
		return " before " + opt.Until.Format(time.RFC3339Nano)
	}
	return ""
}
