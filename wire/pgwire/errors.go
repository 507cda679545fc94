package pgwire

import (
	"fmt"

	"github.com/jackc/pgx/v5/pgproto3"

	"tsgate/errs"
)

// sqlErrf is an error the protocol layer raises itself, with the exact
// SQLSTATE PostgreSQL uses for the same condition.
func sqlErrf(code errs.Code, state, format string, args ...any) *errs.Error {
	return &errs.Error{Code: code, SQLState: state, Msg: fmt.Sprintf(format, args...)}
}

// errorResponse renders a typed error at the edge. Untyped errors become
// XX000 with their text: they are bugs, never the client's fault.
func errorResponse(err error) *pgproto3.ErrorResponse {
	e := errs.As(err)
	return &pgproto3.ErrorResponse{
		Severity:            "ERROR",
		SeverityUnlocalized: "ERROR",
		Code:                e.State(),
		Message:             e.Msg,
		Detail:              e.Detail,
		Hint:                e.Hint,
		Position:            int32(e.Position),
	}
}

func fatalResponse(state, msg string) *pgproto3.ErrorResponse {
	return &pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: state, Message: msg}
}
