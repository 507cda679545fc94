package memtrace

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tsgate/errs"
)

// TestMeta runs the metadata suite on SQLite and on the real PostgreSQL.
func TestMeta(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testMeta(t, func() string { return filepath.Join(t.TempDir(), "meta.db") })
	})
	t.Run("postgres", func(t *testing.T) {
		u := TestingPostgresURL(t)
		testMeta(t, func() string { return u })
	})
}

func testMeta(t *testing.T, target func() string) {
	ctx := context.Background()
	where := target()
	m := openTestMeta(t, where)
	clock := time.Date(2026, 2, 7, 20, 15, 0, 123456789, time.UTC)
	m.now = func() time.Time { return clock }

	// Bootstrap: once, with the given key; later calls do nothing.
	given := NewKey()
	secret, err := m.Bootstrap(ctx, given)
	if err != nil || secret != given {
		t.Fatalf("bootstrap: %q %v", secret, err)
	}
	if s, err := m.Bootstrap(ctx, ""); err != nil || s != "" {
		t.Fatalf("second bootstrap: %q %v", s, err)
	}
	if _, err := m.Bootstrap(ctx, "not-a-key"); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("malformed bootstrap key: %v", err)
	}
	// A second handle (another replica) sees the same store and schema.
	m2 := openTestMeta(t, where)
	orgs, err := m2.Orgs(ctx)
	if err != nil || len(orgs) != 1 || orgs[0].ID != "org_default" {
		t.Fatalf("orgs: %+v %v", orgs, err)
	}
	if err := m.CreateOrg(ctx, "org_default", ""); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("duplicate org: %v", err)
	}
	if err := m.CreateOrg(ctx, "bad org", ""); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("bad org id: %v", err)
	}

	// Keys: bcrypt + prefix lookup, cached 5 minutes, permissions.
	kc := newKeyCache(func() time.Time { return clock })
	k, err := kc.Verify(ctx, m, given)
	if err != nil || k == nil || k.OrgID != "org_default" || !k.Has(PermWrite) || !k.Has(PermRead) {
		t.Fatalf("verify admin: %+v %v", k, err)
	}
	rsecret, rk, err := m.CreateKey(ctx, "org_default", "reader", []string{PermRead}, "")
	if err != nil || !ValidKeyFormat(rsecret) || len(rsecret) != 48 {
		t.Fatalf("create key: %q %v", rsecret, err)
	}
	if _, _, err := m.CreateKey(ctx, "org_default", "reader", []string{PermRead}, ""); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("duplicate key name: %v", err)
	}
	if _, _, err := m.CreateKey(ctx, "org_none", "x", []string{PermRead}, ""); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("key for missing org: %v", err)
	}
	if k, _ := kc.Verify(ctx, m, rsecret); k == nil || k.Has(PermWrite) || !k.Has(PermRead) {
		t.Fatalf("reader key: %+v", k)
	}
	if k, _ := kc.Verify(ctx, m, rsecret[:47]+"A"); k != nil {
		t.Fatal("a wrong key verified")
	}
	if err := m.RevokeKey(ctx, rk.ID); err != nil {
		t.Fatal(err)
	}
	if k, _ := kc.Verify(ctx, m, rsecret); k == nil {
		t.Fatal("revoked key dropped from the cache before 5 minutes (memtrace keeps it)")
	}
	clock = clock.Add(5*time.Minute + time.Second)
	if k, _ := kc.Verify(ctx, m, rsecret); k != nil {
		t.Fatal("revoked key still valid after the cache expired")
	}
	if err := m.RevokeKey(ctx, rk.ID); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("revoke twice: %v", err)
	}
	keys, err := m.Keys(ctx, "org_default")
	if err != nil || len(keys) != 2 || keys[0].Name != "admin" || !keys[0].Enabled || keys[1].Enabled {
		t.Fatalf("keys: %+v %v", keys, err)
	}

	// Agents and sessions.
	a, err := m.CreateAgent(ctx, "org_default", "crawler", "", map[string]any{"depth": 3})
	if err != nil || !strings.HasPrefix(a.ID, "agent_") || len(a.ID) != 30 {
		t.Fatalf("agent: %+v %v", a, err)
	}
	if _, err := m.CreateAgent(ctx, "org_default", "crawler", "", nil); errs.CodeOf(err) != errs.Conflict ||
		err.Error() != "agent 'crawler' already exists in this organization" {
		t.Fatalf("duplicate agent: %v", err)
	}
	clock = clock.Add(time.Second)
	b, _ := m.CreateAgent(ctx, "org_default", "writer", "writes", nil)
	got, err := m.Agent(ctx, "org_default", "crawler")
	// Reads give created_at in whole seconds, as memtrace's SQLite
	// CURRENT_TIMESTAMP did; the create answer has the clock's ns.
	if err != nil || got.ID != a.ID || !got.CreatedAt.Equal(a.CreatedAt.Truncate(time.Second)) ||
		a.CreatedAt.Nanosecond() != 123456789 || got.Config["depth"] != 3.0 {
		t.Fatalf("agent by name: %+v %v", got, err)
	}
	if got, _ := m.Agent(ctx, "org_other", a.ID); got != nil {
		t.Fatal("agent visible from another org")
	}
	as, _ := m.Agents(ctx, "org_default")
	if len(as) != 2 || as[0].ID != b.ID {
		t.Fatalf("agents newest first: %+v", as)
	}
	s, err := m.CreateSession(ctx, "org_default", a.ID, map[string]any{"k": "v"})
	if err != nil || !strings.HasPrefix(s.ID, "sess_") || len(s.ID) != 29 || s.Status != "active" {
		t.Fatalf("session: %+v %v", s, err)
	}
	if _, err := m.CreateSession(ctx, "org_default", "agent_missing", nil); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("session for a missing agent: %v", err)
	}
	clock = clock.Add(time.Second)
	s2, _ := m.CreateSession(ctx, "org_default", a.ID, nil)
	ss, _ := m.Sessions(ctx, "org_default", a.ID)
	if len(ss) != 2 || ss[0].ID != s2.ID || ss[1].Metadata["k"] != "v" {
		t.Fatalf("sessions: %+v", ss)
	}
	clock = clock.Add(time.Second)
	up, err := m.UpdateSession(ctx, "org_default", s.ID, "closed", map[string]any{"done": true})
	if err != nil || up.Status != "closed" || up.ClosedAt == nil || !up.ClosedAt.Equal(clock) || up.Metadata["done"] != true || !up.UpdatedAt.Equal(clock) {
		t.Fatalf("close session: %+v %v", up, err)
	}
	if _, err := m.UpdateSession(ctx, "org_default", "sess_x", "closed", nil); err == nil || err.Error() != "session not found" {
		t.Fatalf("update missing session: %v", err)
	}
	total, active, err := m.SessionCounts(ctx, "org_default", a.ID)
	if err != nil || total != 2 || active != 1 {
		t.Fatalf("session counts: %d %d %v", total, active, err)
	}
	if err := m.DeleteAgent(ctx, "org_default", a.ID); err == nil || err.Error() != "FOREIGN KEY constraint failed" {
		t.Fatalf("delete agent with sessions: %v", err)
	}
	if err := m.DeleteAgent(ctx, "org_default", b.ID); err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteAgent(ctx, "org_default", b.ID); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("delete twice: %v", err)
	}
}

// TestBootstrapRace starts several replicas on one fresh store at once:
// exactly one admin key must result.
func TestBootstrapRace(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testBootstrapRace(t, filepath.Join(t.TempDir(), "meta.db")) })
	t.Run("postgres", func(t *testing.T) { testBootstrapRace(t, TestingPostgresURL(t)) })
}

func testBootstrapRace(t *testing.T, target string) {
	ctx := context.Background()
	var wg sync.WaitGroup
	secrets := make([]string, 4)
	errsOut := make([]error, 4)
	for i := range 4 {
		m := openTestMeta(t, target)
		wg.Add(1)
		go func() {
			defer wg.Done()
			secrets[i], errsOut[i] = m.Bootstrap(ctx, "")
		}()
	}
	wg.Wait()
	made := 0
	for i := range 4 {
		if errsOut[i] != nil {
			t.Fatalf("replica %d: %v", i, errsOut[i])
		}
		if secrets[i] != "" {
			made++
		}
	}
	keys, err := openTestMeta(t, target).Keys(ctx, "")
	if made != 1 || err != nil || len(keys) != 1 {
		t.Fatalf("%d replicas made a key; keys %+v %v", made, keys, err)
	}
}
