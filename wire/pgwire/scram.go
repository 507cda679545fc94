package pgwire

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// SCRAM-SHA-256 needs, per password, a StoredKey and ServerKey derived
// from the password itself; tsgate's token store keeps only SHA-256 of
// each token, from which they cannot be derived. TokenAuth therefore
// keeps its own SCRAM verifiers (file mode 0600 under the data directory),
// derived the moment a token is seen in plaintext: the bootstrap token at
// start-up, and any token a client presents with cleartext auth over TLS.
//
// The password is the token and the user name is free text, so the server
// cannot pick a verifier by user before the proof arrives. All verifiers
// share one server-wide salt and iteration count; the proof is checked
// against each live verifier in turn (a handful of HMACs per login). A
// verifier whose token was revoked in the token store stops matching at
// once, because liveness is checked against the store on every login.

const scramIterations = 4096

type scramKeys struct {
	TokenHash string `json:"token_sha256"`
	StoredKey []byte `json:"stored_key"`
	ServerKey []byte `json:"server_key"`
}

type scramFile struct {
	Salt       []byte      `json:"salt"`
	Iterations int         `json:"iterations"`
	Keys       []scramKeys `json:"keys"`
}

// TokenAuth authenticates pg wire logins against tsgate API tokens.
type TokenAuth struct {
	path   string
	verify func(token string) bool
	live   func(tokenSHA256Hex string) bool

	mu   sync.Mutex
	file scramFile
}

// NewTokenAuth opens (or creates) the verifier file at path. verify checks
// a plaintext token; live reports whether the token with that SHA-256
// (hex) still exists.
func NewTokenAuth(path string, verify func(string) bool, live func(string) bool) (*TokenAuth, error) {
	a := &TokenAuth{path: path, verify: verify, live: live}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		a.file.Salt = make([]byte, 16)
		if _, err := rand.Read(a.file.Salt); err != nil {
			return nil, err
		}
		a.file.Iterations = scramIterations
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(b, &a.file); err != nil {
			return nil, fmt.Errorf("pgwire verifier file %s: %w", path, err)
		}
		if len(a.file.Salt) == 0 || a.file.Iterations <= 0 {
			return nil, fmt.Errorf("pgwire verifier file %s: no salt", path)
		}
	}
	return a, nil
}

// CheckPassword verifies a plaintext token and, when it is valid,
// remembers its SCRAM verifier.
func (a *TokenAuth) CheckPassword(token string) bool {
	if !a.verify(token) {
		return false
	}
	if err := a.Learn(token); err != nil {
		return true // the login itself is valid; SCRAM just stays unavailable
	}
	return true
}

// Learn derives and stores the SCRAM verifier of a valid token.
func (a *TokenAuth) Learn(token string) error {
	if !a.verify(token) {
		return errors.New("not a valid token")
	}
	sum := sha256.Sum256([]byte(token))
	h := hex.EncodeToString(sum[:])
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, k := range a.file.Keys {
		if k.TokenHash == h {
			return nil
		}
	}
	salted, err := pbkdf2.Key(sha256.New, token, a.file.Salt, a.file.Iterations, 32)
	if err != nil {
		return err
	}
	clientKey := hmacSum(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	a.file.Keys = append(a.file.Keys, scramKeys{TokenHash: h, StoredKey: stored[:], ServerKey: hmacSum(salted, "Server Key")})
	return a.save()
}

func (a *TokenAuth) save() error {
	b, err := json.MarshalIndent(a.file, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(a.path), 0o700); err != nil {
		return err
	}
	tmp := a.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, a.path)
}

func (a *TokenAuth) params() (salt []byte, iters int, keys []scramKeys) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, k := range a.file.Keys {
		if a.live(k.TokenHash) {
			keys = append(keys, k)
		}
	}
	return a.file.Salt, a.file.Iterations, keys
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
	keys        []scramKeys
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
// when the proof matches a live verifier.
func (s *scramServer) final(msg []byte) (string, bool, error) {
	m := string(msg)
	i := strings.LastIndex(m, ",p=")
	if i < 0 {
		return "", false, errSCRAM
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
		return "", false, errSCRAM
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != sha256.Size {
		return "", false, errSCRAM
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
			return "v=" + base64.StdEncoding.EncodeToString(hmacSum(k.ServerKey, authMsg)), true, nil
		}
	}
	return "", false, nil
}
