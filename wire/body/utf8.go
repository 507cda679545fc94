package body

import "unicode/utf8"

// ValidUTF8 returns s with each invalid UTF-8 byte replaced by U+FFFD, as
// Arc's write decoders do, so the store never sees a string it cannot
// read. (strings.ToValidUTF8 would replace a run of invalid bytes with a
// single U+FFFD.) A valid s is returned as it is.
func ValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	out := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			out = append(out, "\uFFFD"...)
		} else {
			out = append(out, s[i:i+n]...)
		}
		i += n
	}
	return string(out)
}
