package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"tsgate/internal/testenv"

	"github.com/google/go-cmp/cmp"
)

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

// TestPostgresStoreReplicas: three stores on one database behave as one.
// Replicas starting together make one admin token between them; a token
// made on one verifies on the others, SCRAM verifier included, within a
// second; a revoked one stops everywhere within a second.
func TestPostgresStoreReplicas(t *testing.T) {
	u := testenv.PostgresDB(t, "tsgate_auth")
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
		testenv.Eventually(t, time.Second, "admin token on every replica", func() bool { return len(s.List()) == 1 })
		if got := s.List()[0].Name; got != "admin" {
			t.Errorf("replica %d: token %q", i, got)
		}
	}

	secret, tok, err := rs[0].Create("grafana", "", []Permission{Read})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range rs[1:] {
		d := testenv.Eventually(t, time.Second, "new token on another replica", func() bool { _, ok := s.Verify(secret); return ok })
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
		d := testenv.Eventually(t, time.Second, "revocation on another replica", func() bool { _, ok := s.Verify(secret); return !ok })
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
	u := testenv.PostgresDB(t, "tsgate_auth")
	s := openReplicas(t, u, 1)[0]
	secret, tok, err := s.Create("ci", "", []Permission{Read, Write})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := testenv.Postgres(t, u)
	if _, err := c.Exec(ctx, `DELETE FROM _tsgate.auth_tokens WHERE id = $1`, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `UPDATE _tsgate.auth_state SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Second, "silent revocation", func() bool { _, ok := s.Verify(secret); return !ok })
}

// TestPostgresStoreReconnects: when the watcher's connection is killed,
// the tokens last loaded keep working, and a change made meanwhile arrives
// once it has reconnected.
func TestPostgresStoreReconnects(t *testing.T) {
	u := testenv.PostgresDB(t, "tsgate_auth")
	rs := openReplicas(t, u, 2)
	admin, _, err := rs[0].Create("admin", "", []Permission{Admin})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Second, "token on the second replica", func() bool { _, ok := rs[1].Verify(admin); return ok })
	ctx := context.Background()
	c := testenv.Postgres(t, u)
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
	testenv.Eventually(t, 3*time.Second, "token made while the watcher was down", func() bool { _, ok := rs[1].Verify(secret); return ok })
}

// TestPostgresStoreLearnSCRAM: a token stored without a verifier (made
// before tokens carried one) gets one when its secret is seen on one
// replica, and every replica can then check SCRAM logins with it.
func TestPostgresStoreLearnSCRAM(t *testing.T) {
	u := testenv.PostgresDB(t, "tsgate_auth")
	rs := openReplicas(t, u, 2)
	if _, _, err := rs[0].Create("first", "", []Permission{Read}); err != nil {
		t.Fatal(err)
	}
	secret := "legacy-token-0123456789"
	ctx := context.Background()
	c := testenv.Postgres(t, u)
	if _, err := c.Exec(ctx, `INSERT INTO _tsgate.auth_tokens (id, name, sha256, permissions, created_at)
		VALUES ('0a0b0c0d0e0f', 'old', $1, '{read}', now())`, hashToken(secret)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `UPDATE _tsgate.auth_state SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Second, "legacy token", func() bool { _, ok := rs[0].Verify(secret); return ok })
	if err := rs[0].LearnSCRAM("not-the-token-0123456789"); err == nil {
		t.Error("learned an invalid token")
	}
	if err := rs[0].LearnSCRAM(secret); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Second, "learned verifier on the other replica", func() bool {
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

// TestPostgresStoreTokenFields: what Arc's token API keeps — a token's
// number, description, expiry and revocation — survives a round trip
// through the PostgreSQL store: another replica and a store opened
// afterwards see the tokens exactly as the replica that changed them.
// Numbers come from the stored state, so replicas creating tokens at once
// never hand out one number twice, and a deleted number is never reused.
func TestPostgresStoreTokenFields(t *testing.T) {
	u := testenv.PostgresDB(t, "tsgate_auth")
	rs := openReplicas(t, u, 2)
	// ns and a zone: the store keeps µs in UTC, as timestamptz does.
	exp := time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600))
	secret, tok, err := rs[0].CreateToken(NewToken{Name: "grafana", Description: "dashboards", Permissions: []Permission{Read}, ExpiresAt: &exp})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Seq != 1 || !tok.ExpiresAt.Equal(exp.Truncate(time.Microsecond)) {
		t.Fatalf("created %+v", tok)
	}
	if _, _, err := rs[1].CreateToken(NewToken{Name: "grafana"}); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("duplicate name on another replica: %v", err)
	}

	// Replicas creating at once: distinct numbers, 2…9.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, _, err := rs[i%2].Create(fmt.Sprintf("t%d", i), "", []Permission{Read}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	testenv.Eventually(t, time.Second, "every token on one replica", func() bool { return len(rs[0].List()) == 9 })
	var seqs []int64
	for _, tk := range rs[0].List() {
		seqs = append(seqs, tk.Seq)
	}
	slices.Sort(seqs)
	if diff := cmp.Diff([]int64{1, 2, 3, 4, 5, 6, 7, 8, 9}, seqs); diff != "" {
		t.Fatalf("numbers (-want +got):\n%s", diff)
	}

	// Changes on one replica, seen on the other and by a fresh store.
	name, desc, perms := "grafana-rw", "dashboards and alerts", []Permission{Read, Write}
	exp2 := exp.Add(24 * time.Hour)
	if err := rs[1].Update(tok.Seq, TokenUpdate{Name: &name, Description: &desc, Permissions: &perms, ExpiresAt: &exp2}); err != nil {
		t.Fatal(err)
	}
	fresh, err := rs[1].Rotate(tok.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if err := rs[0].Disable(3); err != nil {
		t.Fatal(err)
	}
	if err := rs[1].Delete(9); err != nil {
		t.Fatal(err)
	}
	if err := rs[0].Delete(9); !errors.Is(err, ErrNoToken) {
		t.Fatalf("deleting a deleted token: %v", err)
	}
	if _, tk, err := rs[0].Create("after-delete", "", []Permission{Read}); err != nil || tk.Seq != 10 {
		t.Fatalf("create after delete: %+v %v", tk, err)
	}
	// rs[0] made the last change: its write read every earlier one.
	want := rs[0].List()
	later := openReplicas(t, u, 1)[0]
	for i, s := range []*Store{rs[1], later} {
		testenv.Eventually(t, time.Second, "changes on another store", func() bool { return cmp.Equal(want, s.List()) })
		if diff := cmp.Diff(want, s.List()); diff != "" {
			t.Errorf("store %d (-changed +seen):\n%s", i, diff)
		}
		got, ok := s.BySeq(tok.Seq)
		if !ok || got.Name != name || got.Description != desc || !cmp.Equal(got.Permissions, perms) ||
			!got.ExpiresAt.Equal(exp2.Truncate(time.Microsecond)) || got.ExpiresAt.Location() != time.UTC || got.Disabled {
			t.Errorf("store %d: updated token %+v", i, got)
		}
		if _, ok := s.Verify(secret); ok {
			t.Errorf("store %d: the rotated-out secret verifies", i)
		}
		if got, ok := s.Verify(fresh); !ok || got.ID != tok.ID {
			t.Errorf("store %d: the rotated secret: %+v %v", i, got, ok)
		}
		if got, ok := s.BySeq(3); !ok || !got.Disabled || got.Active(time.Now()) {
			t.Errorf("store %d: disabled token %+v", i, got)
		}
		if _, keys, _ := s.SCRAM(); len(keys) != 8 {
			t.Errorf("store %d: %d SCRAM verifiers, want the 8 active tokens'", i, len(keys))
		}
	}
}

// TestPostgresStoreOlderTable: a store whose tables were made before
// tokens had numbers, descriptions, expiry and revocation (and a replica
// of that version still inserting such rows) loads; its tokens are
// numbered in creation order, the same on every replica, and the numbers
// are stored with the next change.
func TestPostgresStoreOlderTable(t *testing.T) {
	u := testenv.PostgresDB(t, "tsgate_auth")
	ctx := context.Background()
	c := testenv.Postgres(t, u)
	for _, q := range []string{
		`CREATE SCHEMA _tsgate`,
		`CREATE TABLE _tsgate.auth_state (id boolean PRIMARY KEY DEFAULT true CHECK (id),
			version bigint NOT NULL DEFAULT 0, scram_salt bytea, scram_iterations integer)`,
		`INSERT INTO _tsgate.auth_state (id, version) VALUES (true, 7)`,
		`CREATE TABLE _tsgate.auth_tokens (id text PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL UNIQUE,
			permissions text[] NOT NULL, created_at timestamptz NOT NULL, scram_stored_key bytea, scram_server_key bytea)`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	insert := func(id, name, secret string, at time.Time) {
		t.Helper()
		if _, err := c.Exec(ctx, `INSERT INTO _tsgate.auth_tokens (id, name, sha256, permissions, created_at)
			VALUES ($1, $2, $3, '{read}', $4)`, id, name, hashToken(secret), at); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	insert("bbbbbbbbbbbb", "second", "second-secret-0123456789", at.Add(time.Hour))
	insert("aaaaaaaaaaaa", "first", "first-secret-0123456789", at)
	rs := openReplicas(t, u, 2)
	type row struct {
		Seq  int64
		Name string
	}
	rows := func(s *Store) []row {
		var out []row
		for _, tk := range s.List() {
			out = append(out, row{tk.Seq, tk.Name})
		}
		return out
	}
	for i, s := range rs {
		if diff := cmp.Diff([]row{{1, "first"}, {2, "second"}}, rows(s)); diff != "" {
			t.Errorf("replica %d (-want +got):\n%s", i, diff)
		}
	}
	if tk, ok := rs[1].Verify("second-secret-0123456789"); !ok || tk.Seq != 2 {
		t.Fatalf("older token: %+v %v", tk, ok)
	}
	// A replica of the older version inserts another row without a number.
	insert("cccccccccccc", "older-replica", "third-secret-0123456789", at.Add(2*time.Hour))
	if _, err := c.Exec(ctx, `UPDATE _tsgate.auth_state SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Second, "row from an older replica", func() bool { return len(rs[0].List()) == 3 })
	if _, tk, err := rs[0].Create("new", "", []Permission{Read}); err != nil || tk.Seq != 4 {
		t.Fatalf("create: %+v %v", tk, err)
	}
	var stored []row
	r, err := c.Query(ctx, `SELECT seq, name FROM _tsgate.auth_tokens ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var x row
		if err := r.Scan(&x.Seq, &x.Name); err != nil {
			t.Fatal(err)
		}
		stored = append(stored, x)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]row{{1, "first"}, {2, "second"}, {3, "older-replica"}, {4, "new"}}, stored); diff != "" {
		t.Errorf("stored numbers (-want +got):\n%s", diff)
	}
	var next int64
	if err := c.QueryRow(ctx, `SELECT next_seq FROM _tsgate.auth_state`).Scan(&next); err != nil || next != 5 {
		t.Errorf("next_seq %d: %v", next, err)
	}
}
