package auth

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"slices"

	"tsgate/errs"
)

// SCRAM-SHA-256 (RFC 5802/7677), which pg wire clients use by default,
// checks a login against a verifier derived from the password — here the
// token — which the SHA-256 the store keeps cannot give. So a token's
// verifier is derived when the token is made, while its secret is in
// hand, and stored beside its hash. The password is the token and the pg
// user name is free text, so the server must announce a salt before it
// knows which token is coming: one salt and iteration count serve the
// whole store.

// SCRAMParams are the store-wide salt and PBKDF2 iteration count.
type SCRAMParams struct {
	Salt       []byte `json:"salt"`
	Iterations int    `json:"iterations"`
}

// SCRAMKeys is one token's verifier.
type SCRAMKeys struct {
	StoredKey []byte `json:"stored_key"`
	ServerKey []byte `json:"server_key"`
}

// scramIterations is PostgreSQL's default (scram_iterations).
const scramIterations = 4096

func newSCRAMParams() (*SCRAMParams, error) {
	p := &SCRAMParams{Salt: make([]byte, 16), Iterations: scramIterations}
	if _, err := rand.Read(p.Salt); err != nil {
		return nil, err
	}
	return p, nil
}

// DeriveSCRAM computes a password's verifier under p.
func DeriveSCRAM(p SCRAMParams, password string) (SCRAMKeys, error) {
	salted, err := pbkdf2.Key(sha256.New, password, p.Salt, p.Iterations, sha256.Size)
	if err != nil {
		return SCRAMKeys{}, err
	}
	clientKey := hmacSum(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	return SCRAMKeys{StoredKey: stored[:], ServerKey: hmacSum(salted, "Server Key")}, nil
}

func hmacSum(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// SCRAMVerifier is one token's verifier and the token's ID, so a login
// that proves it knows which token it used.
type SCRAMVerifier struct {
	SCRAMKeys
	TokenID string
}

// SCRAM returns the store's salt and iteration count and the verifiers of
// its active tokens (deleted, disabled and expired tokens log in no more).
// ok is false while no token has a verifier.
func (s *Store) SCRAM() (p SCRAMParams, keys []SCRAMVerifier, ok bool) {
	s.refresh()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.st.SCRAM == nil {
		return SCRAMParams{}, nil, false
	}
	now := s.now()
	for _, t := range s.st.Tokens {
		if t.SCRAM != nil && t.Active(now) {
			keys = append(keys, SCRAMVerifier{SCRAMKeys: *t.SCRAM, TokenID: t.ID})
		}
	}
	return *s.st.SCRAM, keys, len(keys) > 0
}

// LearnSCRAM stores the verifier of a valid token that has none (a token
// made before tokens carried one), now that its secret was seen.
func (s *Store) LearnSCRAM(secret string) error {
	t, ok := s.Verify(secret)
	if !ok {
		return errs.New(errs.Unauthenticated, "not a valid token")
	}
	if t.SCRAM != nil {
		// Every cleartext login asks; only the first one writes.
		return nil
	}
	h := hashToken(secret)
	return s.write(func(st *state) error {
		i := slices.IndexFunc(st.Tokens, func(t *Token) bool { return t.Hash == h })
		if i < 0 {
			return errs.New(errs.Unauthenticated, "not a valid token")
		}
		if st.Tokens[i].SCRAM != nil {
			return nil
		}
		if st.SCRAM == nil {
			var err error
			if st.SCRAM, err = newSCRAMParams(); err != nil {
				return err
			}
		}
		keys, err := DeriveSCRAM(*st.SCRAM, secret)
		if err != nil {
			return err
		}
		tokens := slices.Clone(st.Tokens)
		t := *tokens[i]
		t.SCRAM = &keys
		tokens[i] = &t
		st.Tokens = tokens
		return nil
	})
}
