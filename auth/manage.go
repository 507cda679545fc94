package auth

import (
	"fmt"
	"slices"
	"time"
)

// Token management by number, as Arc's token API addresses tokens. Every
// change rewrites the file atomically (save) under the store's lock after
// rereading it, so the CLI and the server never lose each other's
// changes, and a running server sees the result at once.

// BySeq returns the token numbered seq, revoked or expired ones included.
func (s *Store) BySeq(seq int64) (Token, bool) {
	s.refresh()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, t := range s.tokens {
		if t.Seq == seq {
			return *t, true
		}
	}
	return Token{}, false
}

// TokenUpdate changes some of a token's fields; nil leaves one as it is.
type TokenUpdate struct {
	Name, Description *string
	Permissions       *[]Permission
	ExpiresAt         *time.Time
}

func (u TokenUpdate) empty() bool {
	return u.Name == nil && u.Description == nil && u.Permissions == nil && u.ExpiresAt == nil
}

// Update applies u to the token numbered seq.
func (s *Store) Update(seq int64, u TokenUpdate) error {
	return s.change(seq, func(t *Token, others []*Token) (bool, error) {
		if u.empty() {
			return false, nil
		}
		if u.Name != nil && *u.Name != t.Name && slices.ContainsFunc(others, func(o *Token) bool { return o.Name == *u.Name }) {
			return false, fmt.Errorf("%w: %q", ErrNameTaken, *u.Name)
		}
		if u.Name != nil {
			t.Name = *u.Name
		}
		if u.Description != nil {
			t.Description = *u.Description
		}
		if u.Permissions != nil {
			t.Permissions = slices.Clone(*u.Permissions)
		}
		if u.ExpiresAt != nil {
			e := *u.ExpiresAt
			t.ExpiresAt = &e
		}
		return true, nil
	})
}

// Disable revokes the token numbered seq the way Arc's API does: it is
// kept, marked disabled, and never authenticates again.
func (s *Store) Disable(seq int64) error {
	return s.change(seq, func(t *Token, _ []*Token) (bool, error) {
		t.Disabled = true
		return true, nil
	})
}

// Rotate gives the token numbered seq a new secret (and the SCRAM
// verifier pg wire logins need for it); the old secret stops working.
func (s *Store) Rotate(seq int64) (string, error) {
	secret, err := NewSecret()
	if err != nil {
		return "", err
	}
	err = s.change(seq, func(t *Token, _ []*Token) (bool, error) {
		params, err := s.scramParams()
		if err != nil {
			return false, err
		}
		keys, err := DeriveSCRAM(*params, secret)
		if err != nil {
			return false, err
		}
		t.Hash, t.SCRAM = hashToken(secret), &keys
		s.scram = params
		return true, nil
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// Delete removes the token numbered seq.
func (s *Store) Delete(seq int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(); err != nil {
		return err
	}
	i := slices.IndexFunc(s.tokens, func(t *Token) bool { return t.Seq == seq })
	if i < 0 {
		return ErrNoToken
	}
	if err := s.save(slices.Delete(slices.Clone(s.tokens), i, i+1), s.scram, s.nextSeq); err != nil {
		return err
	}
	return s.reload()
}

// change applies fn to a copy of the token numbered seq and saves the
// result when fn reports a change.
func (s *Store) change(seq int64, fn func(t *Token, others []*Token) (bool, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(); err != nil {
		return err
	}
	i := slices.IndexFunc(s.tokens, func(t *Token) bool { return t.Seq == seq })
	if i < 0 {
		return ErrNoToken
	}
	tokens := slices.Clone(s.tokens)
	t := *tokens[i]
	changed, err := fn(&t, slices.Delete(slices.Clone(tokens), i, i+1))
	if err != nil || !changed {
		return err
	}
	tokens[i] = &t
	if err := s.save(tokens, s.scram, s.nextSeq); err != nil {
		return err
	}
	return s.reload()
}
