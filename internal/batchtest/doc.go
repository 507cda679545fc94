// Package batchtest flattens a model.Batch into plain comparable values,
// so a decoder's test (line protocol, MessagePack) can state a whole
// expected batch compactly and compare it with cmp.Diff.
package batchtest
