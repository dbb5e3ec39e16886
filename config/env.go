package config

import (
	"fmt"
	"strings"
)

// expand replaces ${VAR} and ${VAR:-default} in s with the variable's
// value; with :-, the default is used when the variable is unset or empty.
// "$$" is a literal "$", and a "$" not followed by "{" or "$" is kept as
// is. refs reports whether s contained a reference, which makes the
// value's type come from its expanded text rather than from its quoting.
// The result is at most MaxValueLen bytes: variables hold any length, and
// one value may name the same variable many times.
func expand(s string, lookup func(string) (string, bool)) (out string, refs bool, err error) {
	if !strings.Contains(s, "$") {
		return s, false, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i += 2
			continue
		case '{':
		default:
			b.WriteByte(c)
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return "", refs, fmt.Errorf("unterminated ${ in %s (write $$ for a literal $)", quote(s))
		}
		ref := s[i+2 : i+2+end]
		name, def, hasDef := strings.Cut(ref, ":-")
		if !validEnvName(name) {
			return "", refs, fmt.Errorf("invalid environment variable name %s in ${%s}", quote(name), clip(ref))
		}
		refs = true
		v, ok := lookup(name)
		switch {
		case hasDef && v == "":
			v = def
		case !ok:
			return "", refs, fmt.Errorf("environment variable %s is not set (write ${%s:-default} to give a default)", clip(name), clip(name))
		}
		if b.Len()+len(v) > MaxValueLen {
			return "", refs, fmt.Errorf("the value is longer than %d bytes once ${%s} is expanded", MaxValueLen, clip(name))
		}
		b.WriteString(v)
		i += 2 + end + 1
	}
	if b.Len() > MaxValueLen {
		return "", refs, fmt.Errorf("the value is longer than %d bytes once expanded", MaxValueLen)
	}
	return b.String(), refs, nil
}

func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', 'A' <= r && r <= 'Z', 'a' <= r && r <= 'z':
		case '0' <= r && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
