// Package pgwire is tsgate's PostgreSQL wire protocol front end, built on
// pgx's maintained pgproto3 (v5) message codec.
//
// # Layers
//
// The protocol loop (conn.go) owns the socket: startup, SSL/GSS
// negotiation, authentication, message dispatch, skip-until-Sync after an
// extended-protocol error, and the transaction-status byte. The session
// layer (session.go, extended.go) owns what a PostgreSQL backend keeps per
// session and answers without data: settings (SET/SHOW/RESET and the
// ParameterStatus set), transaction control, DISCARD, prepared statements,
// portals and cursors, and the probes drivers send on connect. Statements
// that read data reach an Executor (the gateway's translation pipeline to
// the configured backend); statements that read the system catalog reach
// the Catalog executor instead, so catalog emulation never touches the
// user's data path.
//
// # Parameters
//
// Bound parameters are inlined as literals before translation (params.go):
// the translator and every backend then see ordinary SQL, and a value can
// never alter the query's structure. Unspecified parameter types are
// inferred from casts and LIMIT/OFFSET, else text (sent as an untyped
// literal so the backend coerces it as PostgreSQL coerces unknown).
//
// # Authentication
//
// Passwords are tsgate API tokens; user names are free text, logged.
// SCRAM-SHA-256 is the default, against the verifier each token gets when
// it is made (auth.SCRAMKeys; see TokenAuth); cleartext is offered only
// on TLS connections and only when configured. MD5 is not offered: it
// would need md5(token+user) for every user name, i.e. the token itself.
//
// # Catalog
//
// Catalog queries (a pg_* relation or function, information_schema,
// current_user…; decided on tokens) go to the Catalog executor; package
// catalog materializes pg_catalog and information_schema per Arc database
// in a private in-memory DuckDB, never touching the data path. The one-
// function probes drivers send (SELECT version(), current_setting(…),
// current_database()) are answered from session state without either.
//
// # Cancellation
//
// Each statement runs under its own context; CancelRequest (matched by
// process id and a random secret, compared in constant time) cancels it,
// which interrupts DuckDB, and the client gets 57014 "canceling statement
// due to user request". A cursor's query lives under the session's
// context until CLOSE, COMMIT/ROLLBACK (without HOLD) or disconnect.
//
// # Hot path
//
// DataRows are encoded into one reused buffer per session and written
// straight into a bufio.Writer: no allocation per row in text or binary
// format (tested). With the embedded store most of a trivial query's time
// is DuckDB's (a pooled connection, SET search_path, the query itself),
// not this package's.
//
// # Transactions
//
// BEGIN/COMMIT/ROLLBACK drive the status byte clients rely on (and an
// error inside a block fails it until ROLLBACK, as in PostgreSQL), but no
// backend transaction is opened: the front end only reads.
package pgwire
