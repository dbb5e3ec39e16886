package sdk

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// MaxNameLen is the longest name, in bytes, that a supervisor or a child
// may have. Names become path segments, event fields, span attributes and
// metric label values, so they are short by rule: 63 is the length of a
// DNS label, which also bounds the names Kubernetes gives pods and
// containers.
const MaxNameLen = 63

// CheckName reports what is wrong with name as the name of a supervisor or
// a child, or nil. A name is 1 to [MaxNameLen] bytes of ASCII letters,
// digits, '_', '-' and '.'. The error says only what is wrong, so that
// callers can attach it to their own field path.
func CheckName(name string) error {
	if name == "" {
		return errBlankName
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("is %d bytes long; the limit is %d", len(name), MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		if !nameByte(name[i]) {
			return fmt.Errorf("%s may contain only letters, digits, '_', '-' and '.'", quoteName(name))
		}
	}
	return nil
}

var errBlankName = fmt.Errorf("is blank")

func nameByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_' || b == '-' || b == '.'
}

// quoteName quotes a name for an error message, cut to a bounded length:
// an error about a hostile name must not carry the whole name.
func quoteName(name string) string {
	if len(name) <= MaxNameLen {
		return strconv.Quote(name)
	}
	cut := MaxNameLen
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return strconv.Quote(name[:cut]) + fmt.Sprintf("… (%d bytes)", len(name))
}
