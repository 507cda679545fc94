package body

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"tsgate/errs"
)

// DefaultMaxDecompressed is Arc's cap on a decompressed line-protocol body.
const DefaultMaxDecompressed int64 = 100 << 20

// Codec is the compression detected from a body's first bytes.
type Codec uint8

const (
	Identity Codec = iota
	Gzip
	Zstd
)

// String is the codec's label in Arc's error messages ("" for none).
func (c Codec) String() string {
	switch c {
	case Gzip:
		return "gzip"
	case Zstd:
		return "zstd"
	}
	return ""
}

// Wording selects whose error messages Read reproduces: Arc's line
// protocol (and TLE) handlers and its msgpack handler word the same
// failures differently, and clients may match on them.
type Wording uint8

const (
	// LineProtocol: "Failed to decompress gzip data: …", an over-limit
	// uncompressed body is a 400 "Failed to read request body: …".
	LineProtocol Wording = iota
	// MsgPack: "Invalid gzip compression: …", an over-limit uncompressed
	// body is a 413 "Payload too large (max …). …".
	MsgPack
)

// Limits bounds a read. Zero values take the defaults.
type Limits struct {
	// MaxCompressed bounds the bytes taken from the reader, compressed or
	// not (Arc's server body limit). Default: MaxDecompressed, since a
	// compressed body larger than what it may expand to is useless.
	MaxCompressed int64
	// MaxDecompressed bounds the body after decompression; for an
	// uncompressed body it bounds the body itself. Default:
	// DefaultMaxDecompressed.
	MaxDecompressed int64
	Wording         Wording
}

// Read reads r to the end (up to the limits), decompresses gzip or zstd
// bodies, and returns the plain bytes. maxDecompressed <= 0 means
// DefaultMaxDecompressed. Messages use the line-protocol wording.
func Read(r io.Reader, maxDecompressed int64) ([]byte, error) {
	b, _, err := ReadLimits(r, Limits{MaxDecompressed: maxDecompressed})
	return b, err
}

// ReadLimits is Read with explicit limits and wording; it also reports the
// codec it detected, for metrics and logs.
func ReadLimits(r io.Reader, l Limits) ([]byte, Codec, error) {
	if l.MaxDecompressed <= 0 {
		l.MaxDecompressed = DefaultMaxDecompressed
	}
	if l.MaxCompressed <= 0 {
		l.MaxCompressed = l.MaxDecompressed
	}
	// limit+1 must not overflow; nothing real comes near 2^62 bytes.
	l.MaxCompressed = min(l.MaxCompressed, 1<<62)
	l.MaxDecompressed = min(l.MaxDecompressed, 1<<62)
	raw, err := readCapped(r, l.MaxCompressed, 0)
	if err != nil {
		return nil, Identity, readError(err)
	}
	if int64(len(raw)) > l.MaxCompressed {
		return nil, Identity, tooLarge(l.MaxCompressed)
	}
	codec := sniff(raw)
	switch codec {
	case Gzip:
		out, err := gunzip(raw, l.MaxDecompressed)
		if err != nil {
			return nil, codec, decompressError(l.Wording, codec, err)
		}
		return out, codec, nil
	case Zstd:
		out, err := unzstd(raw, l.MaxDecompressed)
		if err != nil {
			return nil, codec, decompressError(l.Wording, codec, err)
		}
		return out, codec, nil
	}
	if int64(len(raw)) > l.MaxDecompressed {
		if l.Wording == MsgPack {
			return nil, codec, tooLarge(l.MaxDecompressed)
		}
		return nil, codec, errs.Newf(errs.Invalid, "Failed to read request body: payload exceeds %s limit", formatBytes(l.MaxDecompressed))
	}
	return raw, codec, nil
}

func sniff(b []byte) Codec {
	switch {
	case len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b:
		return Gzip
	case len(b) >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd:
		return Zstd
	}
	return Identity
}

// overLimit is the cause kept in an over-limit decompression error.
type overLimit struct{ limit int64 }

func (e *overLimit) Error() string {
	return fmt.Sprintf("decompressed payload exceeds %s limit", formatBytes(e.limit))
}

func gunzip(raw []byte, limit int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return decompressCapped(zr, limit, len(raw))
}

func unzstd(raw []byte, limit int64) ([]byte, error) {
	// One synchronous decoder per body: no goroutines to leak, and no
	// package-level pool. MaxMemory bounds the window and a declared
	// frame size; the output itself is bounded by decompressCapped.
	zr, err := zstd.NewReader(bytes.NewReader(raw),
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxMemory(uint64(limit)+1024))
	if err != nil {
		return nil, fmt.Errorf("failed to create zstd decoder: %w", err)
	}
	defer zr.Close()
	out, err := decompressCapped(zr, limit, len(raw))
	if err != nil {
		var ol *overLimit
		if errors.As(err, &ol) {
			return nil, err
		}
		return nil, fmt.Errorf("failed to decompress zstd: %w", err)
	}
	return out, nil
}

func decompressCapped(r io.Reader, limit int64, compressed int) ([]byte, error) {
	// Guess 4x the compressed size for the first buffer; readCapped never
	// lets it exceed limit+1 whatever the guess.
	out, err := readCapped(r, limit, int64(compressed)*4)
	if err != nil {
		return nil, err
	}
	if int64(len(out)) > limit {
		return nil, &overLimit{limit: limit}
	}
	return out, nil
}

// readCapped reads r to EOF or until limit+1 bytes, whichever is first.
// Its buffer doubles but its capacity never exceeds limit+1, so a hostile
// stream costs at most limit+1 bytes of memory.
func readCapped(r io.Reader, limit, hint int64) ([]byte, error) {
	max := limit + 1
	size := int64(4096)
	if hint > size {
		size = hint
	}
	if size > max {
		size = max
	}
	buf := make([]byte, 0, size)
	for {
		if int64(len(buf)) == max {
			return buf, nil
		}
		if len(buf) == cap(buf) {
			n := int64(cap(buf)) * 2
			if n > max {
				n = max
			}
			nb := make([]byte, len(buf), n)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func tooLarge(limit int64) *errs.Error {
	return errs.Newf(errs.TooLarge, "Payload too large (max %s). Consider batching into smaller requests.", formatBytes(limit))
}

// readError classifies a failure of the client's reader: a typed error
// passes through, net/http's own body limit is a 413, anything else (a
// dropped connection) is the client's 400.
func readError(err error) error {
	var e *errs.Error
	if errors.As(err, &e) {
		return e
	}
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return errs.Wrap(errs.TooLarge, err, fmt.Sprintf("Payload too large (max %s). Consider batching into smaller requests.", formatBytes(mb.Limit)))
	}
	if errs.IsDeadline(err) {
		return errs.Wrap(errs.RequestTimeout, err, "Request body not received in time; nothing was stored")
	}
	return errs.Wrap(errs.Invalid, err, "Failed to read request body: "+err.Error())
}

func decompressError(w Wording, c Codec, err error) *errs.Error {
	if w == MsgPack {
		return errs.Wrap(errs.Invalid, err, fmt.Sprintf("Invalid %s compression: %v", c, err))
	}
	return errs.Wrap(errs.Invalid, err, fmt.Sprintf("Failed to decompress %s data: %v", c, err))
}

// formatBytes renders a size as Arc does in its messages: whole units
// without decimals ("100MB"), otherwise one decimal ("1.5GB").
func formatBytes(n int64) string {
	const kb, mb, gb = 1 << 10, 1 << 20, 1 << 30
	unit, name := int64(1), "B"
	switch {
	case n >= gb:
		unit, name = gb, "GB"
	case n >= mb:
		unit, name = mb, "MB"
	case n >= kb:
		unit, name = kb, "KB"
	}
	if unit == 1 {
		return fmt.Sprintf("%dB", n)
	}
	if n%unit == 0 {
		return fmt.Sprintf("%d%s", n/unit, name)
	}
	return fmt.Sprintf("%.1f%s", float64(n)/float64(unit), name)
}
