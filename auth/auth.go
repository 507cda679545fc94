package auth

import (
	"context"
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
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Permission is one right a token carries. Admin implies the others.
type Permission string

const (
	Read   Permission = "read"
	Write  Permission = "write"
	Delete Permission = "delete"
	Admin  Permission = "admin"
)

// ParsePermissions parses "read,write".
func ParsePermissions(s string) ([]Permission, error) {
	var out []Permission
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		switch Permission(p) {
		case Read, Write, Delete, Admin:
			out = append(out, Permission(p))
		default:
			return nil, fmt.Errorf("unknown permission %q (read, write, delete, admin)", p)
		}
	}
	return out, nil
}

// Token is a stored token; the secret itself is never kept.
type Token struct {
	// ID is the token's internal identifier (pg wire sessions hold it).
	ID string `json:"id"`
	// Seq is the token's number in Arc's token API (/api/v1/auth/tokens/:id,
	// token_info.id). Tokens from files written before it existed are
	// numbered in file order when the file is read, and keep that number
	// once the file is saved again.
	Seq         int64        `json:"seq,omitempty"`
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Hash        string       `json:"sha256"`
	Permissions []Permission `json:"permissions"`
	CreatedAt   time.Time    `json:"created_at"`
	// ExpiresAt, when set, is when the token stops working.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// Disabled: revoked through the API (Arc keeps revoked tokens, shown
	// with enabled false). Absent in older files: enabled.
	Disabled bool `json:"disabled,omitempty"`
	// SCRAM is the token's SCRAM-SHA-256 verifier for pg wire logins
	// (scram.go); absent on tokens made before tokens carried one.
	SCRAM *SCRAMKeys `json:"scram,omitempty"`
}

// Has reports whether the token carries p.
func (t *Token) Has(p Permission) bool {
	return slices.Contains(t.Permissions, p) || slices.Contains(t.Permissions, Admin)
}

// Active reports whether the token may authenticate at now: enabled and
// not expired.
func (t *Token) Active(now time.Time) bool {
	return !t.Disabled && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt))
}

type file struct {
	SCRAM *SCRAMParams `json:"scram,omitempty"`
	// NextSeq is the number the next token gets: numbers are never
	// reused, so a deleted token's number never names another token.
	NextSeq int64    `json:"next_seq,omitempty"`
	Tokens  []*Token `json:"tokens"`
}

// Store is the token file plus an in-memory index. Other processes (the
// `tsgate token` CLI) may change the file; the store notices within a
// second.
type Store struct {
	path string

	mu      sync.RWMutex
	tokens  []*Token
	scram   *SCRAMParams
	nextSeq int64
	byHash  map[string]*Token
	modTime time.Time
	checked time.Time
	now     func() time.Time

	// lastUsed is when each token (by ID) last authenticated, in this
	// process: Arc reports it, and writing the file on every request
	// would cost more than it tells.
	usedMu   sync.Mutex
	lastUsed map[string]time.Time
}

// Open loads the token file at path (absent = no tokens yet).
func Open(path string) (*Store, error) {
	s := &Store{path: path, now: time.Now}
	if err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) reload() error {
	st, err := os.Stat(s.path)
	if errors.Is(err, os.ErrNotExist) {
		s.tokens, s.scram, s.byHash, s.modTime, s.nextSeq = nil, nil, map[string]*Token{}, time.Time{}, 1
		return nil
	}
	if err != nil {
		return err
	}
	b, err := os.ReadFile(s.path)
	if err != nil {
		return err
	}
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("token file %s: %w", s.path, err)
	}
	s.nextSeq = numberTokens(f.Tokens, f.NextSeq)
	s.tokens, s.scram = f.Tokens, f.SCRAM
	s.byHash = make(map[string]*Token, len(f.Tokens))
	for _, t := range f.Tokens {
		s.byHash[t.Hash] = t
	}
	s.modTime = st.ModTime()
	return nil
}

// numberTokens gives tokens without a number (from older files) the next
// numbers in file order, the same in every process reading the file, and
// returns the number after the highest.
func numberTokens(tokens []*Token, next int64) int64 {
	next = max(next, 1)
	for _, t := range tokens {
		next = max(next, t.Seq+1)
	}
	for _, t := range tokens {
		if t.Seq == 0 {
			t.Seq = next
			next++
		}
	}
	return next
}

// refresh rereads the file when it changed, at most once a second.
func (s *Store) refresh() {
	now := s.now()
	s.mu.RLock()
	due := now.Sub(s.checked) >= time.Second
	s.mu.RUnlock()
	if !due {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checked = now
	st, err := os.Stat(s.path)
	if err != nil || !st.ModTime().Equal(s.modTime) {
		// A read error keeps the old tokens: failing closed on a
		// transient error would lock every client out.
		_ = s.reload()
	}
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// Verify returns the token's record, or false (unknown, revoked or
// expired).
func (s *Store) Verify(tok string) (*Token, bool) {
	if tok == "" {
		return nil, false
	}
	s.refresh()
	h := hashToken(tok)
	t, ok := s.lookup(h)
	if !ok {
		// A token the CLI created a moment ago: look at the file now
		// rather than within the second refresh allows. Only misses pay
		// the stat.
		s.reloadIfChanged()
		if t, ok = s.lookup(h); !ok {
			return nil, false
		}
	}
	if !t.Active(s.now()) {
		return nil, false
	}
	s.Touch(t.ID)
	return t, true
}

// Peek is Verify without recording a use: Arc's verify reports the token
// as it was before the request asking.
func (s *Store) Peek(tok string) (*Token, bool) {
	if tok == "" {
		return nil, false
	}
	s.refresh()
	t, ok := s.lookup(hashToken(tok))
	if !ok {
		s.reloadIfChanged()
		if t, ok = s.lookup(hashToken(tok)); !ok {
			return nil, false
		}
	}
	return t, t.Active(s.now())
}

// Touch records that the token with id was used now.
func (s *Store) Touch(id string) {
	s.usedMu.Lock()
	defer s.usedMu.Unlock()
	if s.lastUsed == nil {
		s.lastUsed = map[string]time.Time{}
	}
	s.lastUsed[id] = s.now().UTC()
}

// LastUsed is when the token last authenticated in this process.
func (s *Store) LastUsed(id string) (time.Time, bool) {
	s.usedMu.Lock()
	defer s.usedMu.Unlock()
	t, ok := s.lastUsed[id]
	return t, ok
}

// ByID returns the live token with id: a session that logged in with a
// token asks again before each statement, so a revoked token stops
// working at once, not at the next login.
func (s *Store) ByID(id string) (*Token, bool) {
	s.refresh()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, t := range s.tokens {
		if t.ID == id {
			return t, t.Active(s.now())
		}
	}
	return nil, false
}

func (s *Store) lookup(h string) (*Token, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.byHash[h]
	if !ok || subtle.ConstantTimeCompare([]byte(t.Hash), []byte(h)) != 1 {
		return nil, false
	}
	return t, true
}

func (s *Store) reloadIfChanged() {
	st, err := os.Stat(s.path)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && !st.ModTime().Equal(s.modTime) {
		_ = s.reload()
	}
}

// Empty reports whether no token exists.
func (s *Store) Empty() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.tokens) == 0
}

// NewSecret makes a fresh random token.
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "tsg_" + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Create stores a new token. secret "" means a random one; the secret is
// returned because it is never stored.
func (s *Store) Create(name, secret string, perms []Permission) (string, *Token, error) {
	return s.CreateToken(NewToken{Name: name, Secret: secret, Permissions: perms})
}

// NewToken describes a token to create.
type NewToken struct {
	Name, Description string
	// Secret "" means a random one.
	Secret      string
	Permissions []Permission
	ExpiresAt   *time.Time
}

// ErrNameTaken: another token has that name (Arc's names are unique).
var ErrNameTaken = errors.New("token name already exists")

// ErrNoToken: no token has that number.
var ErrNoToken = errors.New("token not found")

// CreateToken stores a new token and returns its secret, which is never
// stored.
func (s *Store) CreateToken(n NewToken) (string, *Token, error) {
	secret := n.Secret
	if secret == "" {
		var err error
		if secret, err = NewSecret(); err != nil {
			return "", nil, err
		}
	} else if len(secret) < 16 {
		return "", nil, errors.New("a token must be at least 16 characters")
	}
	var id [6]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", nil, err
	}
	t := &Token{ID: hex.EncodeToString(id[:]), Name: n.Name, Description: n.Description, Hash: hashToken(secret),
		Permissions: n.Permissions, CreatedAt: s.now().UTC(), ExpiresAt: n.ExpiresAt}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(); err != nil {
		return "", nil, err
	}
	if _, dup := s.byHash[t.Hash]; dup {
		return "", nil, errors.New("that token already exists")
	}
	if slices.ContainsFunc(s.tokens, func(o *Token) bool { return o.Name == n.Name }) {
		return "", nil, fmt.Errorf("%w: %q", ErrNameTaken, n.Name)
	}
	params, err := s.scramParams()
	if err != nil {
		return "", nil, err
	}
	keys, err := DeriveSCRAM(*params, secret)
	if err != nil {
		return "", nil, err
	}
	t.SCRAM = &keys
	t.Seq = s.nextSeq
	tokens := append(slices.Clone(s.tokens), t)
	if err := s.save(tokens, params, s.nextSeq+1); err != nil {
		return "", nil, err
	}
	return secret, t, s.reload()
}

// scramParams is the file's SCRAM parameters, made on first use.
func (s *Store) scramParams() (*SCRAMParams, error) {
	if s.scram != nil {
		return s.scram, nil
	}
	return newSCRAMParams()
}

// Bootstrap creates the admin token when there is none. It returns the
// secret only when it made one.
func (s *Store) Bootstrap(secret string) (string, error) {
	if !s.Empty() {
		return "", nil
	}
	// Arc's descriptions of its first token, by where it came from.
	desc := "Initial admin token (auto-generated on first run)"
	if secret != "" {
		desc = "Initial admin token (set via TSGATE_AUTH_BOOTSTRAP_TOKEN)"
	}
	sec, _, err := s.CreateToken(NewToken{Name: "admin", Description: desc,
		Secret: secret, Permissions: []Permission{Read, Write, Delete, Admin}})
	return sec, err
}

// List returns the stored tokens.
func (s *Store) List() []Token {
	s.refresh()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Token, len(s.tokens))
	for i, t := range s.tokens {
		out[i] = *t
	}
	return out
}

// Revoke deletes the token with id (its internal ID or its number).
func (s *Store) Revoke(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(); err != nil {
		return err
	}
	i := slices.IndexFunc(s.tokens, func(t *Token) bool { return t.ID == id || strconv.FormatInt(t.Seq, 10) == id })
	if i < 0 {
		return fmt.Errorf("no token with id %q", id)
	}
	if err := s.save(slices.Delete(slices.Clone(s.tokens), i, i+1), s.scram, s.nextSeq); err != nil {
		return err
	}
	return s.reload()
}

// save writes the file atomically and durably: a crash leaves the old or
// the new file, never half of one.
func (s *Store) save(tokens []*Token, scram *SCRAMParams, nextSeq int64) error {
	b, err := json.MarshalIndent(file{SCRAM: scram, NextSeq: nextSeq, Tokens: tokens}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".tokens-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), s.path)
}

// Caller is who a request acts for, as the front end that authenticated
// it says. It travels in the request's context to the engines' guard.
type Caller struct {
	// Token is the verified token; nil when authentication is disabled
	// or for tsgate's own queries.
	Token *Token
	// Admin may read every database, admin-only ones (memtrace's
	// storage) included.
	Admin bool
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom is the caller ctx carries. None means an ordinary reader,
// never an admin: a path that forgets to say who is asking gets the
// least, not the most.
func CallerFrom(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}

// Internal is the caller for tsgate's own queries (memtrace's storage,
// migrations): they read any database.
func Internal(ctx context.Context) context.Context {
	return WithCaller(ctx, Caller{Admin: true})
}

// CallerOf is the caller a verified token makes.
func CallerOf(t *Token) Caller { return Caller{Token: t, Admin: t.Has(Admin)} }
