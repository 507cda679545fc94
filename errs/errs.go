package errs

import (
	"errors"
	"fmt"
	"net/http"
	"os"
)

// Code classifies an error for every edge at once.
type Code uint8

const (
	// Internal is the zero value so an unclassified error is never reported
	// as the client's fault.
	Internal Code = iota
	Invalid
	Unauthenticated
	PermissionDenied
	NotFound
	Conflict
	TooLarge
	Unsupported
	Engine
	Unavailable
	Timeout
	Canceled
	// RequestTimeout: the client did not send its request in time (a
	// body dribbled past the listener's read timeout).
	RequestTimeout
)

var codeInfo = [...]struct {
	name     string
	status   int
	sqlstate string
}{
	Internal:         {"internal", http.StatusInternalServerError, "XX000"},
	Invalid:          {"invalid", http.StatusBadRequest, "22023"},
	Unauthenticated:  {"unauthenticated", http.StatusUnauthorized, "28000"},
	PermissionDenied: {"permission_denied", http.StatusForbidden, "42501"},
	NotFound:         {"not_found", http.StatusNotFound, "42P01"},
	Conflict:         {"conflict", http.StatusConflict, "23505"},
	TooLarge:         {"too_large", http.StatusRequestEntityTooLarge, "54000"},
	Unsupported:      {"unsupported", http.StatusBadRequest, "0A000"},
	Engine:           {"engine", http.StatusInternalServerError, "XX000"},
	Unavailable:      {"unavailable", http.StatusServiceUnavailable, "08006"},
	Timeout:          {"timeout", http.StatusGatewayTimeout, "57014"},
	Canceled:         {"canceled", 499, "57014"},
	RequestTimeout:   {"request_timeout", http.StatusRequestTimeout, "08006"},
}

// Codes lists every code, so metrics labelled by code can show each at
// zero before the first error (a rate over a series that does not exist
// yet is no rate at all).
func Codes() []Code {
	out := make([]Code, len(codeInfo))
	for i := range codeInfo {
		out[i] = Code(i)
	}
	return out
}

// String is the code's stable name, used as a metrics label.
func (c Code) String() string {
	if int(c) < len(codeInfo) {
		return codeInfo[c].name
	}
	return fmt.Sprintf("code(%d)", uint8(c))
}

// HTTPStatus is the status the Arc API answers with for this code.
func (c Code) HTTPStatus() int {
	if int(c) < len(codeInfo) {
		return codeInfo[c].status
	}
	return http.StatusInternalServerError
}

// Error is a tsgate error: a code plus the message shown to clients.
type Error struct {
	Code Code
	// SQLState overrides the code's default SQLSTATE when the origin knows
	// a more precise one (a backend's own state, say).
	SQLState string
	Msg      string
	Detail   string
	Hint     string
	// Position is a 1-based character offset into the query, 0 when unknown.
	Position int
	// Err is the underlying cause, kept for logs and errors.Is/As.
	Err error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// State returns the SQLSTATE for pg wire.
func (e *Error) State() string {
	if e.SQLState != "" {
		return e.SQLState
	}
	if int(e.Code) < len(codeInfo) {
		return codeInfo[e.Code].sqlstate
	}
	return "XX000"
}

// New makes an error with a fixed message.
func New(code Code, msg string) *Error { return &Error{Code: code, Msg: msg} }

// Newf makes an error with a formatted message.
func Newf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// IsDeadline reports a read or write that failed because a connection's
// deadline passed (net/http's read timeout while a body is read).
func IsDeadline(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// Wrap keeps cause for logs and shows msg to clients.
func Wrap(code Code, cause error, msg string) *Error {
	return &Error{Code: code, Msg: msg, Err: cause}
}

// As returns err as an *Error, classifying an untyped error as Internal
// with its own text.
func As(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Msg: err.Error(), Err: err}
}

// CodeOf is the code of err, Internal for untyped errors (and for nil,
// which callers should not ask about).
func CodeOf(err error) Code {
	if err == nil {
		return Internal
	}
	return As(err).Code
}
