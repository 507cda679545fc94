package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"tsgate/internal/atomicfile"
)

// fileBacking keeps the tokens in one JSON file under the data
// directory, rewritten whole on every change. Its version is the file's
// modification time and size.
type fileBacking struct{ path string }

type file struct {
	SCRAM *SCRAMParams `json:"scram,omitempty"`
	// NextSeq is state.NextSeq; absent in files written before tokens
	// had numbers.
	NextSeq int64    `json:"next_seq,omitempty"`
	Tokens  []*Token `json:"tokens"`
}

// Open loads the token file at path (absent = no tokens yet).
func Open(path string) (*Store, error) {
	return newStore(fileBacking{path: path}, false)
}

// load reads the file and its modification time from one open file, so
// the version matches what was read.
func (f fileBacking) load(context.Context) (state, int64, error) {
	fh, err := os.Open(f.path)
	if errors.Is(err, os.ErrNotExist) {
		st := state{}
		numberTokens(&st)
		return st, 0, nil
	}
	if err != nil {
		return state{}, 0, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return state{}, 0, err
	}
	b, err := io.ReadAll(fh)
	if err != nil {
		return state{}, 0, err
	}
	var fl file
	if err := json.Unmarshal(b, &fl); err != nil {
		return state{}, 0, fmt.Errorf("token file %s: %w", f.path, err)
	}
	out := state{Tokens: fl.Tokens, SCRAM: fl.SCRAM, NextSeq: fl.NextSeq}
	numberTokens(&out)
	return out, fileVersion(st), nil
}

func (f fileBacking) version(context.Context) (int64, error) {
	st, err := os.Stat(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return fileVersion(st), nil
}

// fileVersion mixes the size into the modification time: two writes
// within one tick of the file system's clock still differ.
func fileVersion(st os.FileInfo) int64 { return st.ModTime().UnixNano()*31 + st.Size() }

// update rereads the file, applies fn and writes the result. Another
// process writing at the same moment may lose its change (the file has no
// lock); the `tsgate token` CLI is run by hand, one at a time.
func (f fileBacking) update(ctx context.Context, fn func(*state) error) (state, int64, error) {
	st, v, err := f.load(ctx)
	if err != nil {
		return state{}, 0, err
	}
	before, err := json.Marshal(st)
	if err != nil {
		return state{}, 0, err
	}
	if err := fn(&st); err != nil {
		return state{}, 0, err
	}
	if after, err := json.Marshal(st); err == nil && bytes.Equal(before, after) {
		return st, v, nil
	}
	if err := f.save(st); err != nil {
		return state{}, 0, err
	}
	return f.load(ctx)
}

// save writes the file atomically and durably: a crash leaves the old or
// the new file, never half of one.
func (f fileBacking) save(st state) error {
	b, err := json.MarshalIndent(file{SCRAM: st.SCRAM, NextSeq: st.NextSeq, Tokens: st.Tokens}, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(f.path, b, 0o600)
}

func (fileBacking) close() error { return nil }
