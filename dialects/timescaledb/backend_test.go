package timescaledb_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"tsgate/dialects/backendkit/kittest"
	"tsgate/dialects/timescaledb"
	"tsgate/errs"
	"tsgate/translate"
)

func open(t *testing.T) (*timescaledb.Backend, string) {
	t.Helper()
	return kittest.Server(t, "TSGATE_TEST_POSTGRES_URL", "tsgate_tsdb",
		func(u *url.URL, _ string) (*timescaledb.Backend, error) {
			u.Scheme = "timescaledb"
			return timescaledb.Open(context.Background(), u.String())
		})
}

// TestWithoutExtension: on plain PostgreSQL (no TimescaleDB package
// here) the backend says so and translates for PostgreSQL, and the
// memtrace and TSBS shapes still match DuckDB.
func TestWithoutExtension(t *testing.T) {
	b, db := open(t)
	if b.Generator().Name() != "postgres" || b.Degraded() == "" {
		t.Fatalf("target %q, degraded %q: this server has no timescaledb extension", b.Generator().Name(), b.Degraded())
	}
	kittest.Run(t, b, db, kittest.Options{})

	ctx := context.Background()
	tr := translate.New()
	// Why the target switches: the timescaledb generator's time_bucket
	// does not exist on plain PostgreSQL.
	tl, err := tr.TranslateIn(ctx, `SELECT time_bucket(INTERVAL '1 minute', time) AS m, max(usage_user) FROM cpu GROUP BY m ORDER BY m`, timescaledb.New(), db, b.Schema(db))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tl.Text, "time_bucket(") {
		t.Fatalf("timescaledb output without time_bucket: %s", tl.Text)
	}
	_, err = b.Query(ctx, db, tl.Text)
	kittest.WantCode(t, err, errs.Engine)
	if e := errs.As(err); e.State() != "42883" {
		t.Errorf("SQLSTATE %s, want 42883 (undefined function)", e.State())
	}
	// What the switch costs: first/last are refused, not mistranslated.
	_, err = tr.TranslateIn(ctx, `SELECT first(usage_user, time) FROM cpu`, b.Generator(), db, b.Schema(db))
	kittest.WantCode(t, err, errs.Unsupported)
}
