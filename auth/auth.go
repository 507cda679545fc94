package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"tsgate/errs"
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
	// token_info.id). Tokens stored before it existed are numbered in
	// store order when read (numberTokens), and keep that number once the
	// store is written again.
	Seq         int64        `json:"seq,omitempty"`
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Hash        string       `json:"sha256"`
	Permissions []Permission `json:"permissions"`
	CreatedAt   time.Time    `json:"created_at"`
	// ExpiresAt, when set, is when the token stops working.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// Disabled: revoked through the API (Arc keeps revoked tokens, shown
	// with enabled false). Absent in older stores: enabled.
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

// state is everything a store keeps: its tokens, the store-wide SCRAM
// salt and iteration count, and the number the next token gets.
type state struct {
	Tokens []*Token
	SCRAM  *SCRAMParams
	// NextSeq is the number the next token gets: numbers are never
	// reused, so a deleted token's number never names another token.
	// It lives in the stored state and moves only inside update, so
	// processes and replicas sharing a store never hand out one number
	// twice.
	NextSeq int64
}

// numberTokens gives tokens without a number (stored before tokens had
// one) the next numbers in store order, the same in every process
// reading the store, and sets st.NextSeq past the highest. Both backings
// call it on every state they read, so update's fn always sees numbered
// tokens and writes the numbers back with its change.
func numberTokens(st *state) {
	next := max(st.NextSeq, 1)
	for _, t := range st.Tokens {
		next = max(next, t.Seq+1)
	}
	for _, t := range st.Tokens {
		if t.Seq == 0 {
			t.Seq = next
			next++
		}
	}
	st.NextSeq = next
}

// backing is where a Store keeps its state: a file (file.go) or
// PostgreSQL (postgres.go).
type backing interface {
	// load reads the stored state and its version.
	load(ctx context.Context) (state, int64, error)
	// version is the stored state's version, read cheaply: it changes
	// whenever the state does.
	version(ctx context.Context) (int64, error)
	// update applies fn to the stored state and stores the result
	// atomically, serialized against the backing's other writers (other
	// processes included where the backing can). fn may leave the state
	// unchanged; nothing is written then.
	update(ctx context.Context, fn func(*state) error) (state, int64, error)
	close() error
}

// ioTimeout bounds one read or write of the backing: the Store's methods
// keep the signatures they had when the backing was only a file.
const ioTimeout = 10 * time.Second

// Store is the tokens of a backing plus an in-memory index, so verifying
// a token is one map look-up. Other processes (the `tsgate token` CLI,
// other replicas) may change the backing; the store notices within a
// second: a file is looked at again at most once a second when asked, a
// PostgreSQL store is watched (LISTEN/NOTIFY and a poll).
type Store struct {
	b backing
	// watched: a watcher keeps the index current and versions only
	// grow, so an older load never replaces a newer one.
	watched bool
	// wmu serializes this process's writers; mu guards the index only,
	// so a write waiting on the backing never blocks verification.
	wmu     sync.Mutex
	mu      sync.RWMutex
	st      state
	byHash  map[string]*Token
	ver     int64
	checked time.Time
	now     func() time.Time
	// stop ends the watcher and waits for it.
	stop func()

	// lastUsed is when each token (by ID) last authenticated, in this
	// process: Arc reports it, and writing the store on every request
	// would cost more than it tells.
	usedMu   sync.Mutex
	lastUsed map[string]time.Time
}

func newStore(b backing, watched bool) (*Store, error) {
	s := &Store{b: b, watched: watched, now: time.Now, byHash: map[string]*Token{}}
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	st, v, err := b.load(ctx)
	if err != nil {
		b.close()
		return nil, err
	}
	s.install(st, v)
	return s, nil
}

// install makes st (at version v) what the store answers from.
func (s *Store) install(st state, v int64) {
	byHash := make(map[string]*Token, len(st.Tokens))
	for _, t := range st.Tokens {
		byHash[t.Hash] = t
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.watched && v < s.ver {
		return
	}
	s.st, s.byHash, s.ver = st, byHash, v
}

func (s *Store) currentVersion() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ver
}

// Close stops watching the backing and releases it.
func (s *Store) Close() error {
	if s.stop != nil {
		s.stop()
	}
	return s.b.close()
}

// refresh looks at an unwatched backing again when a second has passed
// since the last look.
func (s *Store) refresh() {
	if s.watched {
		return
	}
	now := s.now()
	// Every request asks: the common answer (not due) takes the shared
	// lock only.
	s.mu.RLock()
	due := now.Sub(s.checked) >= time.Second
	s.mu.RUnlock()
	if !due {
		return
	}
	s.mu.Lock()
	due = now.Sub(s.checked) >= time.Second
	if due {
		s.checked = now
	}
	s.mu.Unlock()
	if due {
		s.reloadIfChanged()
	}
}

// reloadIfChanged reloads when the backing's version moved. A read error
// keeps the old tokens: failing closed on a transient error would lock
// every client out.
func (s *Store) reloadIfChanged() {
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	v, err := s.b.version(ctx)
	if err != nil || v == s.currentVersion() {
		return
	}
	st, v, err := s.b.load(ctx)
	if err != nil {
		return
	}
	s.install(st, v)
}

// write applies fn through the backing and installs the result, so this
// process sees its own change at once.
func (s *Store) write(fn func(*state) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	st, v, err := s.b.update(ctx, fn)
	if err != nil {
		return err
	}
	s.install(st, v)
	return nil
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// Verify returns the token's record, or false (unknown, revoked or
// expired), and records the use.
func (s *Store) Verify(tok string) (*Token, bool) {
	t, ok := s.Peek(tok)
	if !ok {
		return nil, false
	}
	s.Touch(t.ID)
	return t, true
}

// Peek is Verify without recording a use: Arc's verify reports the token
// as it was before the request asking. A known but revoked or expired
// token is returned with false.
func (s *Store) Peek(tok string) (*Token, bool) {
	if tok == "" {
		return nil, false
	}
	s.refresh()
	h := hashToken(tok)
	t, ok := s.lookup(h)
	if !ok {
		if s.watched {
			// The watcher brings a token made elsewhere within a
			// second; asking the database on every miss would let
			// anyone with a wrong token load it.
			return nil, false
		}
		// A token the CLI created a moment ago: look at the file now
		// rather than within the second refresh allows. Only misses pay
		// the stat.
		s.reloadIfChanged()
		if t, ok = s.lookup(h); !ok {
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

// LastUsed is when the token last authenticated in this process (other
// replicas keep their own).
func (s *Store) LastUsed(id string) (time.Time, bool) {
	s.usedMu.Lock()
	defer s.usedMu.Unlock()
	t, ok := s.lastUsed[id]
	return t, ok
}

// ByID returns the live token with id: a session that logged in with a
// token asks again before each statement, so a revoked, disabled or
// expired token stops working at once, not at the next login.
func (s *Store) ByID(id string) (*Token, bool) {
	s.refresh()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, t := range s.st.Tokens {
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

// Empty reports whether no token exists.
func (s *Store) Empty() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.st.Tokens) == 0
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
// Errors the store returns for it carry errs.Conflict and match it with
// errors.Is.
var ErrNameTaken = errors.New("token name already exists")

// ErrNoToken: no token has that number. Errors the store returns for it
// carry errs.NotFound and match it with errors.Is.
var ErrNoToken = errors.New("token not found")

func nameTaken(name string) error {
	return errs.Wrap(errs.Conflict, ErrNameTaken, fmt.Sprintf("token with name %q already exists", name))
}

func noToken(seq int64) error {
	return errs.Wrap(errs.NotFound, ErrNoToken, fmt.Sprintf("no token numbered %d", seq))
}

// CreateToken stores a new token and returns its secret, which is never
// stored.
func (s *Store) CreateToken(n NewToken) (string, *Token, error) {
	secret, err := checkSecret(n.Secret)
	if err != nil {
		return "", nil, err
	}
	var t *Token
	err = s.write(func(st *state) error {
		var err error
		t, err = s.add(st, n, secret)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// checkSecret is secret, or a random one for "".
func checkSecret(secret string) (string, error) {
	if secret == "" {
		return NewSecret()
	}
	if len(secret) < 16 {
		return "", errs.New(errs.Invalid, "a token must be at least 16 characters")
	}
	return secret, nil
}

// storedTime is t as every backing keeps it: UTC, to the µs PostgreSQL's
// timestamptz keeps, so every replica shows the same time.
func storedTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// add appends a new token for secret to st, numbered from st's NextSeq,
// deriving its SCRAM verifier (and the store's salt, on the first token).
func (s *Store) add(st *state, n NewToken, secret string) (*Token, error) {
	var id [6]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	t := &Token{ID: hex.EncodeToString(id[:]), Name: n.Name, Description: n.Description, Hash: hashToken(secret),
		Permissions: slices.Clone(n.Permissions), CreatedAt: storedTime(s.now())}
	if n.ExpiresAt != nil {
		e := storedTime(*n.ExpiresAt)
		t.ExpiresAt = &e
	}
	if slices.ContainsFunc(st.Tokens, func(o *Token) bool { return o.Hash == t.Hash }) {
		return nil, errs.New(errs.Conflict, "that token already exists")
	}
	if slices.ContainsFunc(st.Tokens, func(o *Token) bool { return o.Name == n.Name }) {
		return nil, nameTaken(n.Name)
	}
	keys, err := deriveFor(st, secret)
	if err != nil {
		return nil, err
	}
	t.SCRAM = &keys
	// The backing numbered st when it read it (numberTokens), so NextSeq
	// is past every stored number.
	t.Seq = st.NextSeq
	st.NextSeq++
	st.Tokens = append(slices.Clone(st.Tokens), t)
	return t, nil
}

// deriveFor is secret's SCRAM verifier under st's parameters, which it
// makes when st has none yet.
func deriveFor(st *state, secret string) (SCRAMKeys, error) {
	if st.SCRAM == nil {
		p, err := newSCRAMParams()
		if err != nil {
			return SCRAMKeys{}, err
		}
		st.SCRAM = p
	}
	return DeriveSCRAM(*st.SCRAM, secret)
}

// Bootstrap creates the admin token when there is none. It returns the
// secret only when it made one. Replicas starting together against one
// PostgreSQL store make one admin token between them: the check and the
// creation are one update.
func (s *Store) Bootstrap(secret string) (string, error) {
	if !s.Empty() {
		return "", nil
	}
	// Arc's descriptions of its first token, by where it came from.
	desc := "Initial admin token (auto-generated on first run)"
	if secret != "" {
		desc = "Initial admin token (set via TSGATE_AUTH_BOOTSTRAP_TOKEN)"
	}
	secret, err := checkSecret(secret)
	if err != nil {
		return "", err
	}
	made := false
	err = s.write(func(st *state) error {
		if len(st.Tokens) > 0 {
			return nil
		}
		made = true
		_, err := s.add(st, NewToken{Name: "admin", Description: desc, Permissions: []Permission{Read, Write, Delete, Admin}}, secret)
		return err
	})
	if err != nil || !made {
		return "", err
	}
	return secret, nil
}

// List returns the stored tokens.
func (s *Store) List() []Token {
	s.refresh()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Token, len(s.st.Tokens))
	for i, t := range s.st.Tokens {
		out[i] = *t
	}
	return out
}

// Revoke deletes the token with id (its internal ID or its number).
func (s *Store) Revoke(id string) error {
	return s.write(func(st *state) error {
		i := slices.IndexFunc(st.Tokens, func(t *Token) bool { return t.ID == id || strconv.FormatInt(t.Seq, 10) == id })
		if i < 0 {
			return errs.Newf(errs.NotFound, "no token with id %q", id)
		}
		st.Tokens = slices.Delete(slices.Clone(st.Tokens), i, i+1)
		return nil
	})
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
