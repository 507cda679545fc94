package main

import (
	"flag"
	"fmt"
	"io"
)

// parseArgs parses flags wherever they stand among the arguments —
// `token revoke ID --data-dir D` means what `token revoke --data-dir D ID`
// means — and returns the positional arguments in order. "--" ends the
// flags. Go's flag package alone stops at the first positional argument
// and leaves the flags after it unparsed, silently.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// noArgs parses a command that takes flags only; a stray argument is an
// error naming it rather than something silently ignored.
func noArgs(fs *flag.FlagSet, args []string, stderr io.Writer) bool {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return false
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "tsgate %s: unexpected argument %q (this command takes flags only)\n", fs.Name(), pos[0])
		return false
	}
	return true
}

// createArgs checks what a create command (cmd: "token create", "memtrace
// key create") is given: a -name, and -permissions that parse parses.
// When either is wrong it tells stderr why and returns false: a usage
// error, exit 2.
func createArgs[P any](stderr io.Writer, cmd, name, perms string, parse func(string) (P, error)) (P, bool) {
	var p P
	if name == "" {
		fmt.Fprintf(stderr, "tsgate: %s needs -name\n", cmd)
		return p, false
	}
	p, err := parse(perms)
	if err != nil {
		fmt.Fprintln(stderr, "tsgate:", err)
		return p, false
	}
	return p, true
}
