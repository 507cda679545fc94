// Package lineprotocol decodes InfluxDB line protocol, as Arc accepts it on
// /write, /api/v2/write and /api/v1/write/line-protocol, into a
// *model.Batch.
//
// Each line is one row. A malformed line is dropped on its own and recorded
// with Batch.Reject, so one bad line does not cost the client the rest of
// the request; only when no line survives is the request an error. Where
// Arc silently keeps a wrong value or drops part of a line (an unparsable
// timestamp becomes "now", a bad integer field vanishes), this package
// rejects the line instead, so no data is lost or altered without a trace.
// Where Arc is merely lenient without losing anything (empty tag values,
// unquoted non-numeric values stored as strings, NaN and ±Inf floats,
// repeated spaces) this package is lenient too.
//
// Timestamps are stored in microseconds, the model's unit.
package lineprotocol
