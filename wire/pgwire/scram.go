package pgwire

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"tsgate/auth"
)

// TokenStore is where logins are checked: tsgate's API tokens (the
// password is a token; the user name is free text, recorded in logs).
// auth.Store is one.
type TokenStore interface {
	// Verify reports whether a plaintext token is valid.
	Verify(token string) (*auth.Token, bool)
	// ByID returns a live token by its ID (false once revoked).
	ByID(id string) (*auth.Token, bool)
	// SCRAM returns the store-wide salt and iteration count and the
	// SCRAM-SHA-256 verifiers of the live tokens; ok is false while
	// there are none. Tokens get one when they are made.
	SCRAM() (p auth.SCRAMParams, keys []auth.SCRAMVerifier, ok bool)
	// LearnSCRAM stores the verifier of a valid token made without one,
	// once it is seen in plaintext (cleartext login over TLS).
	LearnSCRAM(token string) error
}

// TokenAuth authenticates pg wire logins against a TokenStore. The proof
// of a SCRAM login is checked against each live verifier in turn (the
// user name cannot select one): a handful of HMACs per login. A revoked
// token leaves the store and stops matching at once.
type TokenAuth struct {
	store TokenStore
	// decoy is announced while no token has a verifier, so the exchange
	// runs its course and fails like a wrong password.
	decoy auth.SCRAMParams
}

// NewTokenAuth checks logins against store.
func NewTokenAuth(store TokenStore) (*TokenAuth, error) {
	a := &TokenAuth{store: store, decoy: auth.SCRAMParams{Salt: make([]byte, 16), Iterations: 4096}}
	if _, err := rand.Read(a.decoy.Salt); err != nil {
		return nil, err
	}
	return a, nil
}

// CheckPassword verifies a plaintext token and, when it is valid, makes
// sure it has a SCRAM verifier for later logins. It returns the token's ID.
func (a *TokenAuth) CheckPassword(token string) (string, bool) {
	t, ok := a.store.Verify(token)
	if !ok {
		return "", false
	}
	// The login itself is valid whatever happens here; SCRAM just stays
	// unavailable for this token if its verifier cannot be saved.
	_ = a.store.LearnSCRAM(token)
	return t.ID, true
}

// Caller is the caller a session's token makes now: false once the
// token is revoked.
func (a *TokenAuth) Caller(id string) (auth.Caller, bool) {
	t, ok := a.store.ByID(id)
	if !ok {
		return auth.Caller{}, false
	}
	return auth.CallerOf(t), true
}

func (a *TokenAuth) params() (salt []byte, iters int, keys []auth.SCRAMVerifier) {
	p, keys, ok := a.store.SCRAM()
	if !ok {
		return a.decoy.Salt, a.decoy.Iterations, nil
	}
	return p.Salt, p.Iterations, keys
}

func hmacSum(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// scramServer is one SCRAM-SHA-256 exchange (RFC 5802/7677, no channel
// binding: we never offer -PLUS).
type scramServer struct {
	auth        *TokenAuth
	clientFirst string // client-first-message-bare
	gs2         string
	serverFirst string
	nonce       string
	keys        []auth.SCRAMVerifier
}

var errSCRAM = errors.New("malformed SCRAM message")

// first consumes client-first-message and returns server-first-message.
func (s *scramServer) first(msg []byte) (string, error) {
	m := string(msg)
	// gs2-header: "n,," or "y,," (client supports binding, we don't offer
	// it); "p=" would demand binding we never advertised.
	var gs2 string
	switch {
	case strings.HasPrefix(m, "n,"), strings.HasPrefix(m, "y,"):
		i := strings.IndexByte(m[2:], ',')
		if i < 0 {
			return "", errSCRAM
		}
		gs2 = m[:2+i+1]
	default:
		return "", errSCRAM
	}
	bare := m[len(gs2):]
	var cnonce string
	for _, attr := range strings.Split(bare, ",") {
		if strings.HasPrefix(attr, "r=") {
			cnonce = attr[2:]
		}
	}
	if cnonce == "" {
		return "", errSCRAM
	}
	var rnd [18]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", err
	}
	salt, iters, keys := s.auth.params()
	s.gs2, s.clientFirst, s.keys = gs2, bare, keys
	s.nonce = cnonce + base64.RawStdEncoding.EncodeToString(rnd[:])
	s.serverFirst = fmt.Sprintf("r=%s,s=%s,i=%d", s.nonce, base64.StdEncoding.EncodeToString(salt), iters)
	return s.serverFirst, nil
}

// final checks client-final-message; it returns server-final-message
// and the token's ID when the proof matches a live verifier.
func (s *scramServer) final(msg []byte) (string, string, error) {
	m := string(msg)
	i := strings.LastIndex(m, ",p=")
	if i < 0 {
		return "", "", errSCRAM
	}
	withoutProof, proofB64 := m[:i], m[i+3:]
	var cb, nonce string
	for _, attr := range strings.Split(withoutProof, ",") {
		switch {
		case strings.HasPrefix(attr, "c="):
			cb = attr[2:]
		case strings.HasPrefix(attr, "r="):
			nonce = attr[2:]
		}
	}
	if cb != base64.StdEncoding.EncodeToString([]byte(s.gs2)) || nonce != s.nonce {
		return "", "", errSCRAM
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != sha256.Size {
		return "", "", errSCRAM
	}
	authMsg := s.clientFirst + "," + s.serverFirst + "," + withoutProof
	for _, k := range s.keys {
		sig := hmacSum(k.StoredKey, authMsg)
		clientKey := make([]byte, len(sig))
		for j := range sig {
			clientKey[j] = proof[j] ^ sig[j]
		}
		got := sha256.Sum256(clientKey)
		if subtle.ConstantTimeCompare(got[:], k.StoredKey) == 1 {
			return "v=" + base64.StdEncoding.EncodeToString(hmacSum(k.ServerKey, authMsg)), k.TokenID, nil
		}
	}
	return "", "", nil
}
