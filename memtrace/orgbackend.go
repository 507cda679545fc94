package memtrace

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"tsgate/errs"
)

// NewMasterKey is what `memtrace keygen master` prints: base64 of 32
// random bytes, the AES-256 key that seals organizations' backend URLs
// (they may carry credentials) in the metadata store.
func NewMasterKey() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// Sealer encrypts and decrypts backend URLs with AES-256-GCM under the
// master key, as memtrace seals its Arc API keys.
type Sealer struct{ aead cipher.AEAD }

// NewSealer reads a master key (base64 of 32 bytes).
func NewSealer(masterKey string) (*Sealer, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(masterKey))
	if err != nil || len(k) != 32 {
		return nil, errs.New(errs.Invalid, "the master key must be base64 of 32 bytes; generate one with `tsgate memtrace keygen master`")
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts s; the nonce leads the base64 text.
func (s *Sealer) Seal(plain string) string {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	rand.Read(nonce)
	return base64.StdEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(plain), nil))
}

// Open decrypts what Seal made; a wrong master key fails here.
func (s *Sealer) Open(sealed string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", errs.New(errs.Invalid, "sealed backend URL is malformed")
	}
	plain, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], nil)
	if err != nil {
		return "", errs.New(errs.PermissionDenied, "cannot decrypt an organization's backend URL: the master key is not the one it was sealed with")
	}
	return string(plain), nil
}

// OrgBackend is an organization's own backend: memtrace's Arc instance.
type OrgBackend struct {
	ID    string
	OrgID string
	// URL is a backend URL (backend.url's syntax); it may hold
	// credentials, and is stored sealed.
	URL       string
	Database  string
	CreatedAt time.Time
}

// SetOrgBackend binds org to its own backend. The org must exist and have
// none yet (memtrace's add-arc rules and words).
func (m *Meta) SetOrgBackend(ctx context.Context, s *Sealer, org, rawURL, database string) (*OrgBackend, error) {
	if rawURL == "" {
		return nil, invalidf("--url is required")
	}
	if database == "" {
		return nil, invalidf("--database is required")
	}
	if !typePattern.MatchString(database) {
		return nil, invalidf("invalid database %q: letters, digits and underscores, starting with a letter", database)
	}
	if ok, err := m.orgExists(ctx, org); err != nil {
		return nil, err
	} else if !ok {
		return nil, errs.Newf(errs.NotFound, "org '%s' not found; create it first with `tsgate memtrace org create`", org)
	}
	now := m.now().UTC()
	b := &OrgBackend{ID: GenerateID("arc_"), OrgID: org, URL: rawURL, Database: database, CreatedAt: now}
	taken := func() error { return errs.Newf(errs.Conflict, "org '%s' already has an arc instance configured", org) }
	if err := m.execOne(ctx, taken, `INSERT INTO org_backends (org_id, id, url_sealed, database, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, org, b.ID, s.Seal(rawURL), database, nanos(now), nanos(now)); err != nil {
		return nil, err
	}
	return b, nil
}

// OrgBackendOf is org's backend, nil when it has none. Opening it needs
// the master key; with s nil the URL is left empty.
func (m *Meta) OrgBackendOf(ctx context.Context, s *Sealer, org string) (*OrgBackend, error) {
	var b OrgBackend
	var sealed string
	var created int64
	err := m.db.QueryRowContext(ctx, m.q("SELECT id, org_id, url_sealed, database, created_at FROM org_backends WHERE org_id = ?"), org).
		Scan(&b.ID, &b.OrgID, &sealed, &b.Database, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, metaErr(err)
	}
	b.CreatedAt = fromNanos(created)
	if s != nil {
		if b.URL, err = s.Open(sealed); err != nil {
			return nil, err
		}
	}
	return &b, nil
}

// CountOrgBackends is how many organizations have a backend of their own.
func (m *Meta) CountOrgBackends(ctx context.Context) (int, error) {
	var n int
	err := m.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM org_backends").Scan(&n)
	return n, metaErr(err)
}

// RemoveOrgBackend unbinds org's backend; the org stays, and so do the
// memories in that backend.
func (m *Meta) RemoveOrgBackend(ctx context.Context, org string) error {
	unknown := func() error { return errs.Newf(errs.NotFound, "no arc instance configured for %s", org) }
	return m.execOne(ctx, unknown, "DELETE FROM org_backends WHERE org_id = ?", org)
}

// MaskURL hides a backend URL's secrets for display: the password, and
// query values that are credentials (token, password, p, api_key),
// masked as maskSecret says.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	if p, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), maskSecret(p))
	}
	q := u.Query()
	for k := range q {
		switch strings.ToLower(k) {
		case "token", "password", "p", "api_key", "apikey":
			q.Set(k, maskSecret(q.Get(k)))
		}
	}
	u.RawQuery = q.Encode()
	s, _ := url.PathUnescape(u.String())
	return s
}

// maskSecret is memtrace's mask for long generated keys: first four, a
// star per hidden character, last four. A secret under 24 characters (a
// password someone chose) is all stars: its ends would give most of it
// away.
func maskSecret(s string) string {
	switch {
	case s == "":
		return "(empty)"
	case len(s) < 24:
		return strings.Repeat("*", len(s))
	}
	return s[:4] + strings.Repeat("*", len(s)-8) + s[len(s)-4:]
}

// CreateOrgNamed adds an org with a generated id (org_ + 24 hex), as
// memtrace's `org create NAME` does.
func (m *Meta) CreateOrgNamed(ctx context.Context, name string) (string, error) {
	if strings.TrimSpace(name) == "" {
		return "", invalidf("name must be non-empty")
	}
	id := GenerateID("org_")
	if err := m.CreateOrg(ctx, id, name); err != nil {
		return "", err
	}
	return id, nil
}

// DeleteOrg removes an org, as memtrace's foreign keys allow: not while
// it has enabled keys, agents or sessions (delete and revoke those first;
// memtrace answers FOREIGN KEY constraint failed). Its revoked keys and
// its backend binding go with it; memories already stored in a backend
// are not touched.
func (m *Meta) DeleteOrg(ctx context.Context, org string) error {
	if ok, err := m.orgExists(ctx, org); err != nil {
		return err
	} else if !ok {
		return errs.Newf(errs.NotFound, "org '%s' not found", org)
	}
	var keys, agents, sessions int
	if err := m.db.QueryRowContext(ctx, m.q(`SELECT
		(SELECT COUNT(*) FROM api_keys WHERE org_id = ? AND enabled = 1),
		(SELECT COUNT(*) FROM agents WHERE org_id = ?),
		(SELECT COUNT(*) FROM sessions WHERE org_id = ?)`), org, org, org).Scan(&keys, &agents, &sessions); err != nil {
		return metaErr(err)
	}
	if keys+agents+sessions > 0 {
		return &errs.Error{Code: errs.Conflict, Msg: "FOREIGN KEY constraint failed",
			Detail: "org '" + org + "' still has " + plural(keys, "enabled key") + ", " + plural(agents, "agent") + " and " + plural(sessions, "session"),
			Hint:   "revoke its keys (tsgate memtrace key revoke) and delete its agents and sessions first"}
	}
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return metaErr(err)
	}
	defer tx.Rollback()
	for _, q := range []string{"DELETE FROM org_backends WHERE org_id = ?", "DELETE FROM api_keys WHERE org_id = ?", "DELETE FROM organizations WHERE id = ?"} {
		if _, err := tx.ExecContext(ctx, m.q(q), org); err != nil {
			return metaErr(err)
		}
	}
	return metaErr(tx.Commit())
}

func plural(n int, what string) string {
	s := strconv.Itoa(n) + " " + what
	if n != 1 {
		s += "s"
	}
	return s
}
