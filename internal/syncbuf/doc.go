// Package syncbuf is a bytes.Buffer that a child process's output
// copier (exec.Cmd's, for a Stdout or Stderr that is not a file) and the
// code watching that output may use at once.
package syncbuf
