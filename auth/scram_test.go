package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
)

// TestDeriveSCRAMRFC7677 checks the verifier against RFC 7677's
// SCRAM-SHA-256 example exchange (password "pencil").
func TestDeriveSCRAMRFC7677(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	keys, err := DeriveSCRAM(SCRAMParams{Salt: salt, Iterations: 4096}, "pencil")
	if err != nil {
		t.Fatal(err)
	}
	authMsg := "n=user,r=rOprNGfwEbeRWgbNEkqO," +
		"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," +
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	proof, _ := base64.StdEncoding.DecodeString("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
	sig := hmacSum(keys.StoredKey, authMsg)
	clientKey := make([]byte, len(sig))
	for i := range sig {
		clientKey[i] = proof[i] ^ sig[i]
	}
	if got := sha256.Sum256(clientKey); subtle.ConstantTimeCompare(got[:], keys.StoredKey) != 1 {
		t.Error("the RFC's client proof does not match the stored key")
	}
	if got, want := base64.StdEncoding.EncodeToString(hmacSum(keys.ServerKey, authMsg)), "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="; got != want {
		t.Errorf("server signature %s, want %s", got, want)
	}
}

func TestTokensCarrySCRAM(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := s.SCRAM(); ok {
		t.Fatal("an empty store has verifiers")
	}
	secret, tok, err := s.Create("a", "", []Permission{Read})
	if err != nil {
		t.Fatal(err)
	}
	p, keys, ok := s.SCRAM()
	if !ok || len(keys) != 1 || p.Iterations != 4096 || len(p.Salt) != 16 {
		t.Fatalf("after create: %+v %d %v", p, len(keys), ok)
	}
	want, _ := DeriveSCRAM(p, secret)
	if string(keys[0].StoredKey) != string(want.StoredKey) || string(keys[0].ServerKey) != string(want.ServerKey) {
		t.Error("stored verifier is not the secret's")
	}
	// A second token shares the salt; another process (the CLI) sees both.
	if _, _, err := s.Create("b", "", []Permission{Read}); err != nil {
		t.Fatal(err)
	}
	other, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	p2, keys2, _ := other.SCRAM()
	if string(p2.Salt) != string(p.Salt) || len(keys2) != 2 {
		t.Errorf("second store: salt changed or %d verifiers", len(keys2))
	}
	if err := other.Revoke(tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, keys3, _ := other.SCRAM(); len(keys3) != 1 {
		t.Errorf("revoked token's verifier still listed (%d)", len(keys3))
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v %v", st.Mode(), err)
	}
}

// TestLearnSCRAMLegacyToken: a token made before tokens carried a
// verifier gets one when its secret is seen; a wrong secret gets none.
func TestLearnSCRAMLegacyToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	secret := "legacy-token-0123456789"
	legacy := `{"tokens":[{"id":"0a0b0c0d0e0f","name":"old","sha256":"` + hashToken(secret) + `","permissions":["read"],"created_at":"2026-01-01T00:00:00Z"}]}`
	if err := os.WriteFile(path, []byte(legacy), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := s.SCRAM(); ok {
		t.Fatal("legacy store has verifiers")
	}
	if err := s.LearnSCRAM("not-the-token-0123456789"); err == nil {
		t.Error("learned an invalid token")
	}
	if err := s.LearnSCRAM(secret); err != nil {
		t.Fatal(err)
	}
	p, keys, ok := s.SCRAM()
	if !ok || len(keys) != 1 {
		t.Fatalf("after learning: %d %v", len(keys), ok)
	}
	want, _ := DeriveSCRAM(p, secret)
	if string(keys[0].StoredKey) != string(want.StoredKey) {
		t.Error("learned verifier is not the secret's")
	}
	if _, ok := s.Verify(secret); !ok {
		t.Error("the token stopped verifying")
	}
}
