package memtrace

import (
	"context"
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
