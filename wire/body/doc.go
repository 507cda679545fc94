// Package body reads a write request's body the way Arc does: it sniffs
// gzip (1f 8b) or zstd (28 b5 2f fd) from the first bytes rather than
// trusting Content-Encoding (Telegraf and memtrace compress without always
// saying so), decompresses, and enforces hard size limits on both the
// bytes read from the client and the bytes produced by decompression.
//
// The limits are bomb-safe: no buffer ever grows beyond limit+1 bytes, and
// reading stops at limit+1, which is how an over-limit body is told apart
// from one exactly at the limit. Every error is an *errs.Error carrying the
// message Arc's handlers show for the same failure.
//
// ValidUTF8 is the decoders' (line protocol, MessagePack) shared rule for
// the strings they read out of a body: each invalid byte becomes U+FFFD.
package body
