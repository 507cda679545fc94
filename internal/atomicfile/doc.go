// Package atomicfile replaces a file's contents so that a crash leaves
// the old file or the new one, never half of one, and a completed Write
// survives a power loss: the data is synced before the rename, and the
// directory after it (the rename itself is a directory entry).
package atomicfile
