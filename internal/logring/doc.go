// Package logring keeps the gateway's most recent log records in memory
// for Arc's GET /api/v1/logs: a bounded ring (Ring) and the slog.Handler
// that feeds it beside the gateway's own handler (Handler).
//
// Only a record's time, level, component and message are kept. Its other
// attributes are not: in tsgate they carry backend addresses, queries and
// error details, which the admin log route is not meant to republish
// (Arc's ring keeps the same four fields, and a caller, which tsgate does
// not record). A message is kept as written, so net/http's own messages
// (the HTTP servers' ErrorLog: "TLS handshake error from ADDR: …") carry
// the client's address.
package logring
