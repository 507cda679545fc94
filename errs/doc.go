// Package errs defines tsgate's typed errors. An error gets its code where it
// starts (a decoder, the SQL guard, a backend) and is rendered only at the
// edge: the Arc HTTP API maps the code to a status, pg wire to a SQLSTATE.
// Nothing in tsgate classifies an error by matching its text.
package errs
