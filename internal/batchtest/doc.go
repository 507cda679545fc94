// Package batchtest is what the ingest decoders' tests (line protocol,
// MessagePack) share: a model.Batch flattened into plain comparable
// values, so a test can state a whole expected batch compactly and
// compare it with cmp.Diff, and the invariants a decoder's answer holds
// whatever its input, for their fuzz targets. Query tests use Rows to
// read a result whole.
package batchtest
