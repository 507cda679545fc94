// Package msgpack decodes the MessagePack write payloads Arc accepts on
// /api/v1/write/msgpack into a *model.Batch:
//
//   - columnar: {"m": "cpu", "columns": {"time": […], "host": […], "v": […]}}
//     (what Telegraf's outputs.arc and memtrace send);
//   - a top-level array of such maps;
//   - {"batch": [ … ]}, whose items may mix columnar and row maps;
//   - row: {"m", "t", "h", "fields" | "f", "tags"}.
//
// It reads with the streaming msgpack.Decoder and typed reads (PeekCode,
// DecodeMapLen, DecodeInt64, …) straight into typed column slices, so the
// hot path never boxes a value in an interface. Every declared length is
// checked against the bytes that remain before anything is allocated, and
// values that are skipped are skipped iteratively, so a hostile payload
// can neither force a huge allocation nor nest deep enough to exhaust the
// stack.
//
// Errors follow Arc: a payload that is not well-formed MessagePack is
// rejected whole; inside an array or a batch an item with bad content is
// dropped on its own (recorded with Batch.Reject), as Arc skips it; a
// top-level single map with bad content rejects the request. Every error
// message starts with "Invalid MessagePack payload: ", as Arc's handler
// words it, except Arc's own whole-request measurement-name error.
package msgpack
