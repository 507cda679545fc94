// Package auth owns tsgate's API tokens: creation, hashed storage,
// verification and permissions. The same tokens authenticate the Arc HTTP
// API and pg wire.
//
// Tokens live in a file under the data directory (Open) or, when several
// replicas must share them, in PostgreSQL (OpenPostgres, auth.store_url);
// either way a Store answers from an in-memory index and notices changes
// other processes make within a second. Every change — Arc's token API
// (manage.go: update, rotate, disable, delete, by the token's number)
// included — is one atomic update of the backing, and token numbers come
// from the stored state, so replicas never hand out one number twice.
//
// Tokens are 32 random bytes, so a plain SHA-256 of the token is a safe
// verifier (no dictionary to attack; bcrypt's cost buys nothing) and lets
// verification be one map look-up per request. Each token also keeps the
// SCRAM-SHA-256 verifier pg wire logins need, derived when the token is
// made (scram.go).
package auth
