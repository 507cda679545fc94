package auth

import (
	"slices"
	"time"
)

// Token management by number, as Arc's token API addresses tokens. Every
// change is one backing update (Store.write): it reads the stored state,
// changes it and stores it atomically, serialized against the backing's
// other writers — other replicas sharing a PostgreSQL store included — so
// the CLI, the server and other replicas never lose each other's changes,
// and this process sees the result at once.

// BySeq returns the token numbered seq, revoked or expired ones included.
func (s *Store) BySeq(seq int64) (Token, bool) {
	s.refresh()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, t := range s.st.Tokens {
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
	return s.change(seq, func(_ *state, t *Token, others []*Token) (bool, error) {
		if u.empty() {
			return false, nil
		}
		if u.Name != nil && *u.Name != t.Name && slices.ContainsFunc(others, func(o *Token) bool { return o.Name == *u.Name }) {
			return false, nameTaken(*u.Name)
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
			e := storedTime(*u.ExpiresAt)
			t.ExpiresAt = &e
		}
		return true, nil
	})
}

// Disable revokes the token numbered seq the way Arc's API does: it is
// kept, marked disabled, and never authenticates again.
func (s *Store) Disable(seq int64) error {
	return s.change(seq, func(_ *state, t *Token, _ []*Token) (bool, error) {
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
	err = s.change(seq, func(st *state, t *Token, _ []*Token) (bool, error) {
		keys, err := deriveFor(st, secret)
		if err != nil {
			return false, err
		}
		t.Hash, t.SCRAM = hashToken(secret), &keys
		return true, nil
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// Delete removes the token numbered seq. Its number is never given again.
func (s *Store) Delete(seq int64) error {
	return s.write(func(st *state) error {
		i := slices.IndexFunc(st.Tokens, func(t *Token) bool { return t.Seq == seq })
		if i < 0 {
			return noToken(seq)
		}
		st.Tokens = slices.Delete(slices.Clone(st.Tokens), i, i+1)
		return nil
	})
}

// change applies fn to a copy of the token numbered seq within one
// backing update, and stores the result when fn reports a change. fn sees
// the whole state (Rotate may have to make the store's SCRAM parameters)
// and the other tokens.
func (s *Store) change(seq int64, fn func(st *state, t *Token, others []*Token) (bool, error)) error {
	return s.write(func(st *state) error {
		i := slices.IndexFunc(st.Tokens, func(t *Token) bool { return t.Seq == seq })
		if i < 0 {
			return noToken(seq)
		}
		tokens := slices.Clone(st.Tokens)
		t := *tokens[i]
		t.Permissions = slices.Clone(t.Permissions)
		changed, err := fn(st, &t, slices.Delete(slices.Clone(tokens), i, i+1))
		if err != nil || !changed {
			return err
		}
		tokens[i] = &t
		st.Tokens = tokens
		return nil
	})
}
