package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

// testingPostgres is a fresh database on the test PostgreSQL server
// (TSGATE_TEST_POSTGRES_URL, which scripts/test.sh starts), dropped when
// the test ends.
func testingPostgres(t *testing.T) string {
	t.Helper()
	base := os.Getenv("TSGATE_TEST_POSTGRES_URL")
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI: TSGATE_TEST_POSTGRES_URL is unset; run scripts/test.sh")
		}
		t.Skip("TSGATE_TEST_POSTGRES_URL is unset (scripts/test.sh starts PostgreSQL)")
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "tsgate_auth_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(ctx)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)")
		admin.Close(ctx)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func openReplicas(t *testing.T, u string, n int) []*Store {
	t.Helper()
	var out []*Store
	for range n {
		s, err := OpenPostgres(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		out = append(out, s)
	}
	return out
}

// within polls cond until it holds or d passes, and returns how long it
// took.
func within(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// TestPostgresStoreReplicas: three stores on one database behave as one.
// Replicas starting together make one admin token between them; a token
// made on one verifies on the others, SCRAM verifier included, within a
// second; a revoked one stops everywhere within a second.
func TestPostgresStoreReplicas(t *testing.T) {
	u := testingPostgres(t)
	rs := openReplicas(t, u, 3)

	secrets := make([]string, len(rs))
	var wg sync.WaitGroup
	for i, s := range rs {
		wg.Go(func() {
			sec, err := s.Bootstrap("")
			if err != nil {
				t.Error(err)
			}
			secrets[i] = sec
		})
	}
	wg.Wait()
	made := 0
	for _, s := range secrets {
		if s != "" {
			made++
		}
	}
	if made != 1 {
		t.Fatalf("%d replicas made an admin token, want 1", made)
	}
	for i, s := range rs {
		within(t, time.Second, "admin token on every replica", func() bool { return len(s.List()) == 1 })
		if got := s.List()[0].Name; got != "admin" {
			t.Errorf("replica %d: token %q", i, got)
		}
	}

	secret, tok, err := rs[0].Create("grafana", "", []Permission{Read})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range rs[1:] {
		d := within(t, time.Second, "new token on another replica", func() bool { _, ok := s.Verify(secret); return ok })
		t.Logf("replica %d verified the new token after %s", i+1, d)
		got, _ := s.ByID(tok.ID)
		if diff := cmp.Diff(tok, got); diff != "" {
			t.Errorf("replica %d: token differs (-made +seen):\n%s", i+1, diff)
		}
		p, keys, ok := s.SCRAM()
		want, _ := DeriveSCRAM(p, secret)
		if !ok || len(keys) != 2 || string(keys[1].StoredKey) != string(want.StoredKey) {
			t.Errorf("replica %d: SCRAM verifiers %d %v", i+1, len(keys), ok)
		}
	}
	if _, _, err := rs[2].Create("dup", secret, []Permission{Read}); err == nil {
		t.Error("the same secret was stored twice")
	}

	if err := rs[2].Revoke(tok.ID); err != nil {
		t.Fatal(err)
	}
	for i, s := range rs[:2] {
		d := within(t, time.Second, "revocation on another replica", func() bool { _, ok := s.Verify(secret); return !ok })
		t.Logf("replica %d refused the revoked token after %s", i, d)
		if _, ok := s.ByID(tok.ID); ok {
			t.Errorf("replica %d: revoked token found by id", i)
		}
	}
	if err := rs[0].Revoke(tok.ID); err == nil {
		t.Error("revoking a revoked token succeeded")
	}
}

// TestPostgresStoreWithoutNotification: a change whose notification never
// comes (lost with a connection; here written by hand) still reaches a
// replica within a second, by the watcher's poll.
func TestPostgresStoreWithoutNotification(t *testing.T) {
	u := testingPostgres(t)
	s := openReplicas(t, u, 1)[0]
	secret, tok, err := s.Create("ci", "", []Permission{Read, Write})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `DELETE FROM _tsgate.auth_tokens WHERE id = $1`, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `UPDATE _tsgate.auth_state SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	within(t, time.Second, "silent revocation", func() bool { _, ok := s.Verify(secret); return !ok })
}

// TestPostgresStoreReconnects: when the watcher's connection is killed,
// the tokens last loaded keep working, and a change made meanwhile arrives
// once it has reconnected.
func TestPostgresStoreReconnects(t *testing.T) {
	u := testingPostgres(t)
	rs := openReplicas(t, u, 2)
	admin, _, err := rs[0].Create("admin", "", []Permission{Admin})
	if err != nil {
		t.Fatal(err)
	}
	within(t, time.Second, "token on the second replica", func() bool { _, ok := rs[1].Verify(admin); return ok })
	ctx := context.Background()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var killed int
	if err := c.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'tsgate-auth-watch'`).Scan(&killed); err != nil || killed != 2 {
		t.Fatalf("killed %d watchers: %v", killed, err)
	}
	if _, ok := rs[1].Verify(admin); !ok {
		t.Error("a known token stopped verifying while the watcher reconnects")
	}
	secret, _, err := rs[0].Create("after", "", []Permission{Read})
	if err != nil {
		t.Fatal(err)
	}
	within(t, 3*time.Second, "token made while the watcher was down", func() bool { _, ok := rs[1].Verify(secret); return ok })
}

// TestPostgresStoreLearnSCRAM: a token stored without a verifier (made
// before tokens carried one) gets one when its secret is seen on one
// replica, and every replica can then check SCRAM logins with it.
func TestPostgresStoreLearnSCRAM(t *testing.T) {
	u := testingPostgres(t)
	rs := openReplicas(t, u, 2)
	if _, _, err := rs[0].Create("first", "", []Permission{Read}); err != nil {
		t.Fatal(err)
	}
	secret := "legacy-token-0123456789"
	ctx := context.Background()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `INSERT INTO _tsgate.auth_tokens (id, name, sha256, permissions, created_at)
		VALUES ('0a0b0c0d0e0f', 'old', $1, '{read}', now())`, hashToken(secret)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `UPDATE _tsgate.auth_state SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	within(t, time.Second, "legacy token", func() bool { _, ok := rs[0].Verify(secret); return ok })
	if err := rs[0].LearnSCRAM("not-the-token-0123456789"); err == nil {
		t.Error("learned an invalid token")
	}
	if err := rs[0].LearnSCRAM(secret); err != nil {
		t.Fatal(err)
	}
	within(t, time.Second, "learned verifier on the other replica", func() bool {
		p, keys, _ := rs[1].SCRAM()
		want, _ := DeriveSCRAM(p, secret)
		for _, k := range keys {
			if k.TokenID == "0a0b0c0d0e0f" && string(k.StoredKey) == string(want.StoredKey) {
				return true
			}
		}
		return false
	})
}
