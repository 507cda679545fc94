package body

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"tsgate/errs"
)

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zs(t testing.TB, b []byte) []byte {
	t.Helper()
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll(b, nil)
}

func TestRead(t *testing.T) {
	plain := []byte("cpu v=1 1\n")
	tests := []struct {
		name  string
		in    []byte
		want  []byte
		codec Codec
	}{
		{"identity", plain, plain, Identity},
		{"empty", nil, []byte{}, Identity},
		{"gzip", gz(t, plain), plain, Gzip},
		{"zstd", zs(t, plain), plain, Zstd},
		{"gzip of nothing", gz(t, nil), []byte{}, Gzip},
		{"two gzip members", append(gz(t, []byte("a")), gz(t, []byte("b"))...), []byte("ab"), Gzip},
		{"one magic byte is not gzip", []byte{0x1f}, []byte{0x1f}, Identity},
		{"exactly at the limit", bytes.Repeat([]byte("x"), 64), bytes.Repeat([]byte("x"), 64), Identity},
		{"gzip exactly at the limit", gz(t, bytes.Repeat([]byte("x"), 64)), bytes.Repeat([]byte("x"), 64), Gzip},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, codec, err := ReadLimits(bytes.NewReader(tt.in), Limits{MaxDecompressed: 64, MaxCompressed: 1024})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if codec != tt.codec {
				t.Errorf("codec %v, want %v", codec, tt.codec)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 1<<20+1)
	tests := []struct {
		name string
		in   []byte
		l    Limits
		want *errs.Error
	}{
		{"gzip bomb, line protocol", gz(t, big), Limits{MaxDecompressed: 1 << 20},
			errs.New(errs.Invalid, "Failed to decompress gzip data: decompressed payload exceeds 1MB limit")},
		{"zstd bomb, line protocol", zs(t, big), Limits{MaxDecompressed: 1 << 20},
			errs.New(errs.Invalid, "Failed to decompress zstd data: decompressed payload exceeds 1MB limit")},
		{"gzip bomb, msgpack", gz(t, big), Limits{MaxDecompressed: 1 << 20, Wording: MsgPack},
			errs.New(errs.Invalid, "Invalid gzip compression: decompressed payload exceeds 1MB limit")},
		{"plain over limit, line protocol", big, Limits{MaxDecompressed: 1 << 20, MaxCompressed: 2 << 20},
			errs.New(errs.Invalid, "Failed to read request body: payload exceeds 1MB limit")},
		{"plain over limit, msgpack", big, Limits{MaxDecompressed: 1 << 20, MaxCompressed: 2 << 20, Wording: MsgPack},
			errs.New(errs.TooLarge, "Payload too large (max 1MB). Consider batching into smaller requests.")},
		{"compressed over limit", gz(t, big), Limits{MaxDecompressed: 4 << 20, MaxCompressed: 100},
			errs.New(errs.TooLarge, "Payload too large (max 100B). Consider batching into smaller requests.")},
		{"default compressed limit is the decompressed one", big, Limits{MaxDecompressed: 1 << 20},
			errs.New(errs.TooLarge, "Payload too large (max 1MB). Consider batching into smaller requests.")},
		{"corrupt gzip", []byte{0x1f, 0x8b, 0, 0}, Limits{},
			errs.New(errs.Invalid, "Failed to decompress gzip data: unexpected EOF")},
		{"truncated gzip, msgpack", gz(t, big)[:100], Limits{Wording: MsgPack},
			errs.New(errs.Invalid, "Invalid gzip compression: unexpected EOF")},
		{"corrupt zstd", []byte{0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff}, Limits{},
			errs.New(errs.Invalid, "Failed to decompress zstd data: failed to decompress zstd: reserved bit set on frame header")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ReadLimits(bytes.NewReader(tt.in), tt.l)
			var got *errs.Error
			if !errors.As(err, &got) {
				t.Fatalf("error %v (%T) is not *errs.Error", err, err)
			}
			if diff := cmp.Diff(tt.want.Code, got.Code); diff != "" {
				t.Errorf("code (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want.Msg, got.Msg); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadStopsAtLimit: an endless body is read only to limit+1 bytes.
func TestReadStopsAtLimit(t *testing.T) {
	r := &countingReader{}
	_, err := Read(r, 1000)
	if errs.CodeOf(err) != errs.TooLarge {
		t.Fatalf("err %v", err)
	}
	if r.n > 1001 {
		t.Errorf("read %d bytes, want at most 1001", r.n)
	}
}

type countingReader struct{ n int }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	r.n += len(p)
	return len(p), nil
}

// TestBombAllocation: a 1 GB gzip bomb against a 1 MB limit allocates
// about the limit, not the bomb.
func TestBombAllocation(t *testing.T) {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for range 64 { // 64 MB of zeros is enough to show the cap
		w.Write(zero)
	}
	w.Close()
	bomb := buf.Bytes()
	allocs := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			Read(bytes.NewReader(bomb), 1<<20)
		}
	})
	if per := allocs.AllocedBytesPerOp(); per > 4<<20 {
		t.Errorf("allocated %d bytes per read, want about 2 MB", per)
	}
}

func TestReaderErrors(t *testing.T) {
	_, err := Read(io.MultiReader(strings.NewReader("abc"), errReader{}), 0)
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != errs.Invalid || e.Msg != "Failed to read request body: connection reset" {
		t.Errorf("got %#v", err)
	}
	// net/http's MaxBytesReader limit is a 413.
	rec := httptest.NewRecorder()
	mb := http.MaxBytesReader(rec, io.NopCloser(strings.NewReader(strings.Repeat("x", 2048))), 1024)
	_, err = Read(mb, 1<<20)
	if !errors.As(err, &e) || e.Code != errs.TooLarge || e.Msg != "Payload too large (max 1KB). Consider batching into smaller requests." {
		t.Errorf("got %#v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{10: "10B", 1024: "1KB", 1536: "1.5KB", 100 << 20: "100MB", 1 << 30: "1GB", 3 << 29: "1.5GB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
