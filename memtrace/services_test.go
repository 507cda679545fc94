package memtrace

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
)

// serviceURL is a test service's address from the environment
// (scripts/services.sh prints it). Missing, the test is skipped on a
// developer machine and fails under CI, where a skipped service test would
// hide a broken setup.
func serviceURL(t testing.TB, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: run eval \"$(./scripts/services.sh)\" first", env)
		}
		t.Skipf("%s is not set (eval \"$(./scripts/services.sh)\" starts the services)", env)
	}
	return v
}

// TestingPostgresURL makes a fresh PostgreSQL database for one test and
// returns its URL; it is dropped when the test ends.
func TestingPostgresURL(t testing.TB) string {
	t.Helper()
	base := serviceURL(t, "TSGATE_TEST_POSTGRES_URL")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "tsgate_mt_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP DATABASE " + name + " WITH (FORCE)")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// TestingRedisURL is the test Redis server's URL.
func TestingRedisURL(t testing.TB) string {
	t.Helper()
	return serviceURL(t, "TSGATE_TEST_REDIS_URL")
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
