// Package auth owns tsgate's API tokens: creation, hashed storage in a file
// under the data directory, verification and permissions. The same tokens
// authenticate the Arc HTTP API and pg wire.
//
// Tokens are 32 random bytes, so a plain SHA-256 of the token is a safe
// verifier (no dictionary to attack; bcrypt's cost buys nothing) and lets
// verification be one map look-up per request. Each token also keeps the
// SCRAM-SHA-256 verifier pg wire logins need, derived when the token is
// made (scram.go).
package auth
