package auth

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestOldFileNumbered: a token file written before tokens had numbers
// (and descriptions, expiry, revocation) still loads; its tokens are
// numbered in file order, the same in every reader, and keep those
// numbers once the file is saved.
func TestOldFileNumbered(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	old := `{"tokens":[
  {"id":"aaaaaaaaaaaa","name":"admin","sha256":"` + hashToken("first-secret-0123456789") + `","permissions":["read","write","delete","admin"],"created_at":"2026-01-01T00:00:00Z"},
  {"id":"bbbbbbbbbbbb","name":"reader","sha256":"` + hashToken("second-secret-0123456789") + `","permissions":["read"],"created_at":"2026-01-02T00:00:00Z"}
]}`
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Seq     int64
		Name    string
		Enabled bool
	}
	list := func(s *Store) []row {
		var out []row
		for _, tk := range s.List() {
			out = append(out, row{tk.Seq, tk.Name, tk.Active(time.Now())})
		}
		return out
	}
	if diff := cmp.Diff([]row{{1, "admin", true}, {2, "reader", true}}, list(s)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if tk, ok := s.Verify("second-secret-0123456789"); !ok || tk.Seq != 2 {
		t.Fatalf("old token: %+v %v", tk, ok)
	}
	// A new token takes the next number; a deleted number is never given
	// again, in this process or another.
	if _, tk, err := s.Create("c", "", []Permission{Read}); err != nil || tk.Seq != 3 {
		t.Fatalf("create: %+v %v", tk, err)
	}
	if err := s.Delete(3); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, tk, err := s2.Create("d", "", []Permission{Read}); err != nil || tk.Seq != 4 {
		t.Fatalf("create after delete: %+v %v", tk, err)
	}
	if diff := cmp.Diff([]row{{1, "admin", true}, {2, "reader", true}, {4, "d", true}}, list(s2)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if err := s.Delete(3); !errors.Is(err, ErrNoToken) {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestManageTokens(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 8, 22, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	secret, tk, err := s.CreateToken(NewToken{Name: "grafana", Description: "dashboards", Permissions: []Permission{Read}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateToken(NewToken{Name: "grafana"}); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("duplicate name: %v", err)
	}

	// Rotation: the old secret stops, the new one works, on HTTP and for
	// pg wire's SCRAM (a new verifier derived from the new secret).
	fresh, err := s.Rotate(tk.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Verify(secret); ok {
		t.Error("old secret still verifies after rotation")
	}
	if got, ok := s.Verify(fresh); !ok || got.Seq != tk.Seq || got.ID != tk.ID {
		t.Fatalf("new secret: %+v %v", got, ok)
	}
	p, keys, ok := s.SCRAM()
	want, _ := DeriveSCRAM(p, fresh)
	if !ok || len(keys) != 1 || string(keys[0].StoredKey) != string(want.StoredKey) {
		t.Error("rotated token's SCRAM verifier is not the new secret's")
	}

	// Update: only the given fields change.
	name, perms := "grafana-ro", []Permission{Read, Write}
	exp := now.Add(time.Hour)
	if err := s.Update(tk.Seq, TokenUpdate{Name: &name, Permissions: &perms, ExpiresAt: &exp}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.BySeq(tk.Seq)
	if got.Name != name || got.Description != "dashboards" || !cmp.Equal(got.Permissions, perms) || !got.ExpiresAt.Equal(exp) {
		t.Errorf("after update: %+v", got)
	}
	if err := s.Update(99, TokenUpdate{Name: &name}); !errors.Is(err, ErrNoToken) {
		t.Errorf("update of a missing token: %v", err)
	}

	// Expiry and revocation stop the token everywhere, pg wire included.
	now = exp
	if _, ok := s.Verify(fresh); ok {
		t.Error("expired token verifies")
	}
	if _, ok := s.ByID(tk.ID); ok {
		t.Error("expired token found by a pg wire session")
	}
	if _, keys, _ := s.SCRAM(); len(keys) != 0 {
		t.Error("expired token still offers a SCRAM verifier")
	}
	now = exp.Add(-time.Minute)
	if err := s.Disable(tk.Seq); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Verify(fresh); ok {
		t.Error("revoked token verifies")
	}
	if got, ok := s.BySeq(tk.Seq); !ok || got.Active(now) {
		t.Error("a revoked token is kept, disabled")
	}
}
