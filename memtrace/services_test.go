package memtrace

import (
	"context"
	"net/http/httptest"
	"testing"

	"tsgate/internal/testenv"
)

// TestingPostgresURL makes a fresh PostgreSQL database for one test and
// returns its URL; it is dropped when the test ends.
func TestingPostgresURL(t testing.TB) string {
	t.Helper()
	return testenv.PostgresDB(t, "tsgate_mt")
}

// TestingRedisURL is the test Redis server's URL.
func TestingRedisURL(t testing.TB) string {
	t.Helper()
	return testenv.URL(t, "TSGATE_TEST_REDIS_URL")
}

func openTestMeta(t testing.TB, target string) *Meta {
	t.Helper()
	m, err := OpenMeta(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// serveTestMeta is a server over b with the metadata at target,
// bootstrapped, without authentication; its URL is returned.
func serveTestMeta(t testing.TB, b Backend, target string, opts ...Option) (string, *Meta) {
	t.Helper()
	meta := openTestMeta(t, target)
	if _, err := meta.Bootstrap(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(b, meta, append([]Option{WithoutAuth()}, opts...)...))
	t.Cleanup(srv.Close)
	return srv.URL, meta
}
