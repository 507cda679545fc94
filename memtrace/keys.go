package memtrace

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"tsgate/errs"
)

// Permissions a key may carry. memtrace stored them and never checked
// them; tsgate checks read and write, and admin implies both.
const (
	PermRead  = "read"
	PermWrite = "write"
	PermAdmin = "admin"
)

// KeyInfo is a key as listed: never its secret.
type KeyInfo struct {
	ID          int64
	Name        string
	OrgID       string
	Permissions []string
	CreatedAt   time.Time
	Enabled     bool
}

// Has reports whether the key grants perm.
func (k *KeyInfo) Has(perm string) bool {
	return slices.Contains(k.Permissions, perm) || slices.Contains(k.Permissions, PermAdmin)
}

// NewKey makes a key in memtrace's format: mtk_ + base64url of 32 random
// bytes, 48 characters.
func NewKey() string {
	var b [32]byte
	rand.Read(b[:])
	return "mtk_" + base64.URLEncoding.EncodeToString(b[:])
}

// ValidKeyFormat reports whether s looks like a key NewKey makes.
func ValidKeyFormat(s string) bool {
	rest, ok := strings.CutPrefix(s, "mtk_")
	if !ok || len(s) != 48 {
		return false
	}
	b, err := base64.URLEncoding.DecodeString(rest)
	return err == nil && len(b) == 32
}

// keyPrefix is the lookup prefix stored next to the bcrypt hash: the hash
// cannot be searched, so candidates are found by the first 16 hex digits
// of the key's sha256.
func keyPrefix(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])[:16]
}

// ParsePermissions checks a comma-separated permission list.
func ParsePermissions(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		switch p {
		case PermRead, PermWrite, PermAdmin:
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		case "":
		default:
			return nil, invalidf("unknown permission %q (read, write, admin)", p)
		}
	}
	if len(out) == 0 {
		return nil, invalidf("no permissions given")
	}
	return out, nil
}

// CreateKey stores a new key for org and returns its secret, which is not
// kept anywhere. secret may be given (bootstrap); empty makes one.
func (m *Meta) CreateKey(ctx context.Context, org, name string, perms []string, secret string) (string, *KeyInfo, error) {
	if name == "" {
		return "", nil, invalidf("key name is required")
	}
	if ok, err := m.orgExists(ctx, org); err != nil {
		return "", nil, err
	} else if !ok {
		return "", nil, errs.Newf(errs.NotFound, "organization %q not found", org)
	}
	if secret == "" {
		secret = NewKey()
	} else if !ValidKeyFormat(secret) {
		return "", nil, invalidf("key must look like mtk_ followed by 44 base64url characters")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(secret), bcrypt.DefaultCost)
	if err != nil {
		return "", nil, err
	}
	k := &KeyInfo{Name: name, OrgID: org, Permissions: perms, CreatedAt: m.now().UTC(), Enabled: true}
	taken := func() error { return errs.Newf(errs.Conflict, "a key named %q already exists", name) }
	if err := m.execOne(ctx, taken, `INSERT INTO api_keys (key_hash, key_prefix, name, org_id, permissions, created_at, enabled)
		VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT DO NOTHING`, string(hash), keyPrefix(secret), name, org, strings.Join(perms, ","), nanos(k.CreatedAt)); err != nil {
		return "", nil, err
	}
	if err := m.db.QueryRowContext(ctx, m.q("SELECT id FROM api_keys WHERE name = ?"), name).Scan(&k.ID); err != nil {
		return "", nil, metaErr(err)
	}
	return secret, k, nil
}

// Keys lists keys, of one org or (org "") of all.
func (m *Meta) Keys(ctx context.Context, org string) ([]KeyInfo, error) {
	q := "SELECT id, name, org_id, permissions, created_at, enabled FROM api_keys"
	var args []any
	if org != "" {
		q += " WHERE org_id = ?"
		args = append(args, org)
	}
	return queryAll(ctx, m, nil, func(sc scanner) (KeyInfo, error) {
		var k KeyInfo
		var perms string
		var created int64
		var enabled int
		err := sc.Scan(&k.ID, &k.Name, &k.OrgID, &perms, &created, &enabled)
		k.Permissions = strings.Split(perms, ",")
		k.CreatedAt = fromNanos(created)
		k.Enabled = enabled != 0
		return k, err
	}, q+" ORDER BY id", args...)
}

// RevokeKey disables a key. A server that verified it in the last five
// minutes keeps accepting it until its cache entry expires, as memtrace.
func (m *Meta) RevokeKey(ctx context.Context, id int64) error {
	unknown := func() error { return errs.Newf(errs.NotFound, "no enabled key with id %d", id) }
	return m.execOne(ctx, unknown, "UPDATE api_keys SET enabled = 0 WHERE id = ? AND enabled = 1", id)
}

// Bootstrap gives a fresh store its first org and admin key. It does
// nothing once any key exists. The returned secret is non-empty only when
// a key was made now; with given set, that key is the one stored.
func (m *Meta) Bootstrap(ctx context.Context, given string) (string, error) {
	if given != "" && !ValidKeyFormat(given) {
		return "", invalidf("bootstrap key must look like an mtk_ key (mtk_ followed by 44 base64url characters)")
	}
	var secret string
	err := m.locked(ctx, func(ex execer) error {
		var n int
		if err := ex.QueryRowContext(ctx, "SELECT COUNT(*) FROM api_keys").Scan(&n); err != nil {
			return metaErr(err)
		}
		if n > 0 {
			return nil
		}
		if err := m.CreateOrg(ctx, "org_default", "Default Organization"); err != nil && errs.CodeOf(err) != errs.Conflict {
			return err
		}
		s, _, err := m.CreateKey(ctx, "org_default", "admin", []string{PermRead, PermWrite, PermAdmin}, given)
		if err != nil && errs.CodeOf(err) == errs.Conflict {
			// Another replica bootstrapped between the count and here
			// (SQLite has no advisory lock): its key stands.
			return nil
		}
		secret = s
		return err
	})
	return secret, err
}

// verifiedTTL is how long a verified key is trusted without bcrypt:
// bcrypt costs tens of milliseconds by design, too much per request.
const verifiedTTL = 5 * time.Minute

// maxCachedKeys bounds the verified-key cache; past it the cache starts
// over rather than grow without limit.
const maxCachedKeys = 10000

// keyCache remembers verified keys by the sha256 of the secret, so the
// secret itself is never held.
type keyCache struct {
	mu      sync.Mutex
	entries map[[32]byte]cachedKey
	now     func() time.Time
}

type cachedKey struct {
	info    *KeyInfo
	expires time.Time
}

func newKeyCache(now func() time.Time) *keyCache {
	return &keyCache{entries: map[[32]byte]cachedKey{}, now: now}
}

// Verify returns the key's info, or nil when it is not a valid key.
func (c *keyCache) Verify(ctx context.Context, m *Meta, secret string) (*KeyInfo, error) {
	sum := sha256.Sum256([]byte(secret))
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[sum]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.info, nil
	}
	rows, err := m.db.QueryContext(ctx, m.q("SELECT id, key_hash, name, org_id, permissions FROM api_keys WHERE key_prefix = ? AND enabled = 1"), hex.EncodeToString(sum[:])[:16])
	if err != nil {
		return nil, metaErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k KeyInfo
		var hash, perms string
		if err := rows.Scan(&k.ID, &hash, &k.Name, &k.OrgID, &perms); err != nil {
			return nil, metaErr(err)
		}
		if bcrypt.CompareHashAndPassword([]byte(hash), []byte(secret)) != nil {
			continue
		}
		k.Permissions = strings.Split(perms, ",")
		k.Enabled = true
		c.mu.Lock()
		if len(c.entries) >= maxCachedKeys {
			c.entries = map[[32]byte]cachedKey{}
		}
		c.entries[sum] = cachedKey{info: &k, expires: now.Add(verifiedTTL)}
		c.mu.Unlock()
		return &k, nil
	}
	return nil, metaErr(rows.Err())
}
