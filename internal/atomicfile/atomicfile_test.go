package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWrite: the new contents replace the old with the asked mode, the
// missing directory is made, and no temporary file is left behind.
func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub")
	path := filepath.Join(dir, "state.json")
	for _, body := range []string{`{"v":1}`, `{"v":2, "longer": true}`, ``} {
		if err := Write(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != body {
			t.Fatalf("read %q, %v; want %q", got, err, body)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, %v", fi.Mode(), err)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 1 {
		t.Fatalf("directory holds %v (%v), want the file alone", ents, err)
	}
}

// TestWriteFails: a path under a file cannot be written, and the error
// says so rather than leaving anything behind.
func TestWriteFails(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(filepath.Join(f, "x"), []byte("y"), 0o600); err == nil {
		t.Fatal("wrote under a regular file")
	}
}
