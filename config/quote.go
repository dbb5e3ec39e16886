package config

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// maxQuote is the most bytes of a value that a problem shows. A problem
// quotes a value so that the reader can find it, not to show it in full,
// and the values of a hostile document are as long as it likes.
const maxQuote = 64

// quote returns s in Go syntax, as %q does, cut after maxQuote bytes and
// followed by its length when it is longer: "aaaa"… (1048576 bytes), the
// form sdk's name errors use.
func quote(s string) string {
	if len(s) <= maxQuote {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:cut(s, maxQuote)]) + fmt.Sprintf("… (%d bytes)", len(s))
}

// clip returns s cut after maxQuote bytes, for text a problem shows
// unquoted: a number, a key in a path.
func clip(s string) string { return clipTo(s, maxQuote) }

// clipTo returns s cut after n bytes, followed by its length when longer.
func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:cut(s, n)] + fmt.Sprintf("… (%d bytes)", len(s))
}

// cut returns where to cut s, at most n bytes in and not inside a
// character.
func cut(s string, n int) int {
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}
