package lifecycle_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// The fuzz targets below check the text and JSON encodings of states,
// kinds, exit reports and health snapshots: whatever the input, a known
// label round-trips exactly, an unknown one is an error naming it, and
// nothing panics. Their seed corpora are in testdata/fuzz/<name>/;
// scripts/test.sh runs each for a short while.
//
//	go test -run '^$' -fuzz '^FuzzHealthJSON$' -fuzztime 15s ./lifecycle/

// FuzzStateLabel: ParseState and State's text encoding are inverses on the
// known labels and reject everything else with a *LabelError; String and
// MarshalText never panic for any State value. The same for Kind.
func FuzzStateLabel(f *testing.F) {
	f.Fuzz(func(t *testing.T, label string, raw uint8) {
		s, err := lifecycle.ParseState(label)
		if err == nil {
			if s.String() != label {
				t.Fatalf("ParseState(%q) = %v, whose label is %q", label, s, s.String())
			}
			if !lifecycle.KindChild.Has(s) && !lifecycle.KindSupervisor.Has(s) {
				t.Fatalf("ParseState(%q) = %v, a state of neither kind", label, s)
			}
			text, err := s.MarshalText()
			if err != nil || string(text) != label {
				t.Fatalf("MarshalText(%v) = %q, %v", s, text, err)
			}
		} else {
			requireLabelError(t, err, "state", label)
			before := lifecycle.StateRunning
			if err := before.UnmarshalText([]byte(label)); err == nil || before != lifecycle.StateRunning {
				t.Fatalf("UnmarshalText(%q) = %v and changed the state to %v", label, err, before)
			}
		}

		k, err := lifecycle.ParseKind(label)
		if err == nil {
			if k.String() != label || len(k.States()) == 0 {
				t.Fatalf("ParseKind(%q) = %v (%q)", label, k, k.String())
			}
		} else {
			requireLabelError(t, err, "kind", label)
		}

		// Any value: String never panics; MarshalText succeeds exactly for
		// the states that parse back.
		rs := lifecycle.State(raw)
		text, err := rs.MarshalText()
		back, perr := lifecycle.ParseState(rs.String())
		if (err == nil) != (perr == nil && back == rs) {
			t.Fatalf("State(%d): MarshalText %q, %v; ParseState(%q) = %v, %v", raw, text, err, rs.String(), back, perr)
		}
		if _, jerr := json.Marshal(struct{ S lifecycle.State }{rs}); (jerr == nil) != (err == nil) {
			t.Fatalf("State(%d): json %v, MarshalText %v", raw, jerr, err)
		}
		rk := lifecycle.Kind(raw)
		ktext, kerr := rk.MarshalText()
		kback, kperr := lifecycle.ParseKind(rk.String())
		if (kerr == nil) != (kperr == nil && kback == rk) {
			t.Fatalf("Kind(%d): MarshalText %q, %v; ParseKind(%q) = %v, %v", raw, ktext, kerr, rk.String(), kback, kperr)
		}
		for _, k := range []lifecycle.Kind{lifecycle.KindChild, lifecycle.KindSupervisor, rk} {
			// Table lookups must be bounded for any state and kind.
			_ = k.Has(rs)
			_ = k.Terminal(rs)
			_ = k.CanTransition(rs, lifecycle.State(raw^0xff))
		}
	})
}

// FuzzExitReportJSON: an exit report with a known state survives JSON
// unchanged; a document naming an unknown state fails to decode; and any
// bytes at all decode or fail without panicking, and what decodes with a
// known state encodes back to the same report.
func FuzzExitReportJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, state, phase, reason string, recoverable, panicked bool, completedAt int64, raw []byte) {
		rep := lifecycle.ExitReport{
			Phase:       validUTF8(phase),
			Reason:      validUTF8(reason),
			Recoverable: recoverable,
			Panic:       panicked,
			CompletedAt: fuzzTime(completedAt),
		}
		checkLabelledJSON(t, &rep, &rep.State, state, []string{"state"}, func(a, b *lifecycle.ExitReport) bool { return exitReportsEqual(*a, *b) })

		var got lifecycle.ExitReport
		if err := json.Unmarshal(raw, &got); err != nil || !lifecycle.KindChild.Has(got.State) && !lifecycle.KindSupervisor.Has(got.State) {
			return
		}
		data, err := json.Marshal(got)
		if err != nil {
			t.Fatalf("decoded %+v from %q but cannot encode it: %v", got, raw, err)
		}
		var again lifecycle.ExitReport
		if err := json.Unmarshal(data, &again); err != nil || !exitReportsEqual(got, again) {
			t.Fatalf("%s decodes to %+v (%v), want %+v", data, again, err, got)
		}
	})
}

// FuzzHealthJSON: a health snapshot whose kind and states are known
// survives JSON unchanged, optional parts included; an unknown kind or
// state label, at the top or in the exit report, fails to decode.
func FuzzHealthJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, kind, path, state string, alive bool, since, startedAt int64,
		by, why string, requestedAt int64, exitState, phase, reason string, recoverable, panicked bool, completedAt int64, parts uint8) {
		h := lifecycle.Health{
			Path:      validUTF8(path),
			Alive:     alive,
			Since:     fuzzTime(since),
			StartedAt: fuzzTime(startedAt),
		}
		if parts&1 != 0 {
			h.Shutdown = &lifecycle.ShutdownRequest{RequestedBy: validUTF8(by), Reason: validUTF8(why), RequestedAt: fuzzTime(requestedAt)}
		}
		var exitLabel string
		if parts&2 != 0 {
			h.Exit = &lifecycle.ExitReport{Phase: validUTF8(phase), Reason: validUTF8(reason), Recoverable: recoverable, Panic: panicked, CompletedAt: fuzzTime(completedAt)}
			exitLabel = exitState
			if parts&4 != 0 {
				h.Failure = &lifecycle.FailureReason{Phase: h.Exit.Phase, Reason: h.Exit.Reason, Panic: panicked, Recoverable: recoverable}
			}
		}
		eq := func(a, b *lifecycle.Health) bool { return healthsEqual(*a, *b) }
		k, kerr := lifecycle.ParseKind(kind)
		if kerr != nil {
			// An unknown kind: the document must not decode.
			h.Kind = lifecycle.KindChild
			h.State = lifecycle.StateRunning
			if h.Exit != nil {
				h.Exit.State = lifecycle.StateFailed
			}
			checkLabelledJSON(t, &h, &h.Kind, kind, []string{"kind"}, eq)
			return
		}
		h.Kind = k
		if h.Exit != nil {
			s, err := lifecycle.ParseState(exitLabel)
			if err != nil {
				h.State = lifecycle.StateFailed
				checkLabelledJSON(t, &h, &h.Exit.State, exitLabel, []string{"exit", "state"}, eq)
				return
			}
			h.Exit.State = s
		}
		checkLabelledJSON(t, &h, &h.State, state, []string{"state"}, eq)
	})
}

// textLabel is a field encoded as a label: a State or a Kind.
type textLabel interface {
	UnmarshalText([]byte) error
}

// checkLabelledJSON sets *field from label and checks the round trip of v
// when the label is known. When it is not, it encodes v with a valid value
// in the field, puts the label at path in the document, and checks that
// decoding fails with a *LabelError naming it.
func checkLabelledJSON[T any](t *testing.T, v *T, field textLabel, label string, path []string, equal func(a, b *T) bool) {
	t.Helper()
	if err := field.UnmarshalText([]byte(label)); err == nil {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("cannot encode %+v: %v", *v, err)
		}
		var back T
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("cannot decode %s: %v", data, err)
		}
		if !equal(v, &back) {
			t.Fatalf("round trip changed the value:\n was %+v\n now %+v\n via %s", *v, back, data)
		}
		again, err := json.Marshal(&back)
		if err != nil || string(again) != string(data) {
			t.Fatalf("encoding is not stable:\n %s\n %s (%v)", data, again, err)
		}
		return
	}
	// Unknown label: fill the field with a valid value to get a document,
	// then put the label in.
	switch f := field.(type) {
	case *lifecycle.State:
		*f = lifecycle.StateRunning
	case *lifecycle.Kind:
		*f = lifecycle.KindChild
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("cannot encode %+v: %v", *v, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	m := doc
	for _, p := range path[:len(path)-1] {
		m = m[p].(map[string]any)
	}
	m[path[len(path)-1]] = label
	data, err = json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var back T
	err = json.Unmarshal(data, &back)
	if err == nil {
		t.Fatalf("%s decoded with the unknown label %q: %+v", data, label, back)
	}
	var le *lifecycle.LabelError
	if !errors.As(err, &le) {
		t.Fatalf("decoding the unknown label %q failed with %T (%v), not a *LabelError", label, err, err)
	}
	if utf8.ValidString(label) && le.Label != label {
		t.Fatalf("LabelError names %q, the document has %q", le.Label, label)
	}
}

func requireLabelError(t *testing.T, err error, what, label string) {
	t.Helper()
	var le *lifecycle.LabelError
	if !errors.As(err, &le) || le.What != what || le.Label != label {
		t.Fatalf("error for the %s label %q: %T %v", what, label, err, err)
	}
	if le.ErrorType() != "unknown_label" || !strings.Contains(err.Error(), what) {
		t.Fatalf("LabelError %v: type %q", err, le.ErrorType())
	}
}

// fuzzTime turns an int64 into a UTC time that JSON can carry (the whole
// int64 range of Unix nanoseconds is within years 1677..2262); MinInt64
// stands for the zero time.
func fuzzTime(n int64) time.Time {
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// validUTF8 makes s valid UTF-8: JSON replaces invalid bytes, so only
// valid strings can round-trip exactly.
func validUTF8(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

func exitReportsEqual(a, b lifecycle.ExitReport) bool {
	if !a.CompletedAt.Equal(b.CompletedAt) {
		return false
	}
	a.CompletedAt, b.CompletedAt = time.Time{}, time.Time{}
	return a == b
}

func healthsEqual(a, b lifecycle.Health) bool {
	if !a.Since.Equal(b.Since) || !a.StartedAt.Equal(b.StartedAt) {
		return false
	}
	if (a.Shutdown == nil) != (b.Shutdown == nil) || (a.Exit == nil) != (b.Exit == nil) || (a.Failure == nil) != (b.Failure == nil) {
		return false
	}
	if a.Shutdown != nil {
		x, y := *a.Shutdown, *b.Shutdown
		if !x.RequestedAt.Equal(y.RequestedAt) {
			return false
		}
		x.RequestedAt, y.RequestedAt = time.Time{}, time.Time{}
		if x != y {
			return false
		}
	}
	if a.Exit != nil && !exitReportsEqual(*a.Exit, *b.Exit) {
		return false
	}
	if a.Failure != nil && *a.Failure != *b.Failure {
		return false
	}
	return a.Kind == b.Kind && a.Path == b.Path && a.Alive == b.Alive && a.State == b.State
}
