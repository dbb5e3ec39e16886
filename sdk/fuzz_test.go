package sdk

// This file is in package sdk, not sdk_test: FuzzBackoff drives the
// unexported backoffState that the supervisor's loop uses.

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// Seed corpora are in testdata/fuzz/<name>/; scripts/test.sh runs each
// target for a short while.
//
//	go test -run '^$' -fuzz '^FuzzBackoff$' -fuzztime 15s ./sdk/

// FuzzReportJSON: a report (with a nested supervisor's report) survives
// JSON unchanged; a document naming an unknown state fails to decode with
// a *lifecycle.LabelError; and any bytes decode or fail without panicking,
// what decodes encoding back to the same report.
func FuzzReportJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, path, state, cause, by, reason, errText string, startedAt, endedAt int64,
		childPath, childState string, attempts uint64, restarts int, lastErr, stack, outcome string, stopNs int64, nested bool, raw []byte) {
		child := ChildReport{
			Path:         fuzzString(childPath),
			Attempts:     attempts,
			Restarts:     restarts,
			LastError:    fuzzString(lastErr),
			PanicStack:   fuzzString(stack),
			Outcome:      StopOutcome(fuzzString(outcome)),
			StopDuration: time.Duration(stopNs),
		}
		rep := Report{
			Path:        fuzzString(path),
			Cause:       Cause(fuzzString(cause)),
			RequestedBy: fuzzString(by),
			Reason:      fuzzString(reason),
			Error:       fuzzString(errText),
			StartedAt:   fuzzInstant(startedAt),
			EndedAt:     fuzzInstant(endedAt),
		}
		// The state labels go where they are checked: the supervisor's at
		// the top, the child's in the first child.
		cs, cerr := lifecycle.ParseState(childState)
		if cerr != nil {
			cs = lifecycle.StateStopped
		}
		child.State = cs
		if nested {
			inner := rep
			inner.Path += "/inner"
			inner.State = lifecycle.StateCompleted
			inner.Children = []ChildReport{child}
			child.Supervisor = &inner
		}
		rep.Children = []ChildReport{child}

		switch s, err := lifecycle.ParseState(state); {
		case err != nil:
			rep.State = lifecycle.StateCompleted
			requireUnknownLabel(t, &rep, []string{"state"}, state)
		case cerr != nil:
			rep.State = s
			requireUnknownLabel(t, &rep, []string{"children", "0", "state"}, childState)
		default:
			rep.State = s
			requireReportRoundTrip(t, &rep)
		}

		var got Report
		if err := json.Unmarshal(raw, &got); err != nil || !reportStatesKnown(&got) || !reportTimesEncodable(&got) {
			return
		}
		requireReportRoundTrip(t, &got)
	})
}

func requireReportRoundTrip(t *testing.T, rep *Report) {
	t.Helper()
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatalf("cannot encode %+v: %v", *rep, err)
	}
	var back Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("cannot decode %s: %v", data, err)
	}
	if !reportsEqual(rep, &back) {
		t.Fatalf("round trip changed the report:\n was %+v\n now %+v\n via %s", *rep, back, data)
	}
	if again, err := json.Marshal(&back); err != nil || string(again) != string(data) {
		t.Fatalf("encoding is not stable:\n %s\n %s (%v)", data, again, err)
	}
	_ = rep.Abandoned() // walks the tree; must not panic
}

// requireUnknownLabel encodes rep, puts label at path in the document and
// checks that decoding fails with a *lifecycle.LabelError.
func requireUnknownLabel(t *testing.T, rep *Report, path []string, label string) {
	t.Helper()
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatalf("cannot encode %+v: %v", *rep, err)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	node := doc
	for _, p := range path[:len(path)-1] {
		switch n := node.(type) {
		case map[string]any:
			node = n[p]
		case []any:
			node = n[0]
		}
	}
	node.(map[string]any)[path[len(path)-1]] = label
	if data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	var back Report
	err = json.Unmarshal(data, &back)
	var le *lifecycle.LabelError
	if !errors.As(err, &le) {
		t.Fatalf("%s with the unknown state %q decoded to %+v, %v; want a *lifecycle.LabelError", data, label, back, err)
	}
}

func reportsEqual(a, b *Report) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	if a == nil {
		return true
	}
	if !a.StartedAt.Equal(b.StartedAt) || !a.EndedAt.Equal(b.EndedAt) || len(a.Children) != len(b.Children) {
		return false
	}
	if a.Path != b.Path || a.State != b.State || a.Cause != b.Cause || a.RequestedBy != b.RequestedBy ||
		a.Reason != b.Reason || a.Error != b.Error {
		return false
	}
	for i := range a.Children {
		x, y := a.Children[i], b.Children[i]
		if !reportsEqual(x.Supervisor, y.Supervisor) {
			return false
		}
		x.Supervisor, y.Supervisor = nil, nil
		if x != y {
			return false
		}
	}
	return true
}

func reportStatesKnown(r *Report) bool {
	if !lifecycle.KindSupervisor.Has(r.State) && !lifecycle.KindChild.Has(r.State) {
		return false
	}
	for _, c := range r.Children {
		if !lifecycle.KindChild.Has(c.State) && !lifecycle.KindSupervisor.Has(c.State) {
			return false
		}
		if c.Supervisor != nil && !reportStatesKnown(c.Supervisor) {
			return false
		}
	}
	return true
}

// reportTimesEncodable: time.Time's JSON encoding refuses years outside
// 0..9999 and offsets of a day or more, which decoding can produce.
func reportTimesEncodable(r *Report) bool {
	for _, tm := range []time.Time{r.StartedAt, r.EndedAt} {
		if _, err := tm.MarshalJSON(); err != nil {
			return false
		}
	}
	for _, c := range r.Children {
		if c.Supervisor != nil && !reportTimesEncodable(c.Supervisor) {
			return false
		}
	}
	return true
}

// FuzzBackoff: Delay is in [0, Max] for any policy, valid or not, and any
// n; Validate rejects a policy with a *SpecError naming a Backoff field, or
// every delay a seeded backoffState returns is in [0, Max] and obeys its
// jitter mode, and Delay never decreases as failures accumulate.
func FuzzBackoff(f *testing.F) {
	f.Fuzz(func(t *testing.T, initial, maxDelay int64, multiplier float64, jitter uint8, resetAfter int64, seed uint64, steps uint8, ran int64) {
		b := Backoff{
			Initial:    time.Duration(initial),
			Max:        time.Duration(maxDelay),
			Multiplier: multiplier,
			Jitter:     Jitter(jitter),
			ResetAfter: time.Duration(resetAfter),
		}
		ceiling := max(b.Max, 0)
		for _, n := range []int{math.MinInt, -1, 0, 1, 2, 3, 10, 62, 63, 64, 1000, 1 << 40, math.MaxInt, int(steps)} {
			if d := b.Delay(n); d < 0 || d > ceiling {
				t.Fatalf("%+v: Delay(%d) = %v, outside [0, %v]", b, n, d, ceiling)
			}
		}
		if err := b.Validate(); err != nil {
			var se *SpecError
			if !errors.As(err, &se) || !strings.HasPrefix(se.Field, "Backoff.") || se.Child != "" || !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("%+v: Validate returned %T %v", b, err, err)
			}
			return
		}
		prev := time.Duration(0)
		for n := 1; n <= 200; n++ {
			d := b.Delay(n)
			if d < prev {
				t.Fatalf("%+v: Delay(%d) = %v after Delay(%d) = %v: a failing child must not restart faster", b, n, d, n-1, prev)
			}
			prev = d
		}
		st := newBackoffState(b, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)))
		for i := range int(steps) + 1 {
			// Every third attempt ran for ran: long enough, or not, to
			// reset the growth.
			attemptRan := time.Duration(0)
			if i%3 == 2 {
				attemptRan = time.Duration(ran)
			}
			d := st.next(attemptRan)
			if d < 0 || d > b.Max {
				t.Fatalf("%+v: delay %d is %v, outside [0, %v]", b, i, d, b.Max)
			}
			exp := b.Delay(st.consecutive())
			switch b.Jitter {
			case JitterNone:
				if d != exp {
					t.Fatalf("%+v: delay %d is %v, want %v without jitter", b, i, d, exp)
				}
			case JitterFull:
				if d > exp {
					t.Fatalf("%+v: full jitter gave %v above the exponential %v", b, d, exp)
				}
			case JitterEqual:
				if d < exp/2 || d > exp {
					t.Fatalf("%+v: equal jitter gave %v outside [%v, %v]", b, d, exp/2, exp)
				}
			case JitterDecorrelated:
				if d < b.Initial {
					t.Fatalf("%+v: decorrelated jitter gave %v below Initial", b, d)
				}
			}
			if b.ResetAfter > 0 && attemptRan >= b.ResetAfter && st.consecutive() != 1 {
				t.Fatalf("%+v: an attempt that ran %v did not reset the count (%d)", b, attemptRan, st.consecutive())
			}
		}
	})
}

// FuzzEventString: Event.String never panics, whatever the fields (labels
// out of range included), and renders the type and path first.
func FuzzEventString(f *testing.F) {
	f.Fuzz(func(t *testing.T, typ uint8, path, sup string, attempt, generation uint64, from, to, exit uint8,
		errText string, errKind uint8, cause, by, command, shutdownCause string, delay, ranFor, waited int64, restarts, failures int) {
		e := Event{
			Type:          EventType(typ),
			Time:          time.Unix(0, delay).UTC(),
			Path:          path,
			Supervisor:    sup,
			Attempt:       attempt,
			Generation:    generation,
			From:          lifecycle.State(from),
			To:            lifecycle.State(to),
			Exit:          ExitKind(exit),
			Cause:         cause,
			RequestedBy:   by,
			Command:       command,
			ShutdownCause: Cause(shutdownCause),
			Delay:         time.Duration(delay),
			Ran:           time.Duration(ranFor),
			Waited:        time.Duration(waited),
			Restarts:      restarts,
			Failures:      failures,
		}
		switch errKind % 5 {
		case 1:
			e.Err = errors.New(errText)
		case 2:
			e.Err = &PanicError{Value: errText, Stack: []byte(errText)}
		case 3:
			e.Err = &PanicError{} // a nil panic value
		case 4:
			e.Err = &AbandonedError{Children: []string{errText, path}}
		}
		if errKind&0x80 != 0 {
			e.Report = &Report{Path: path}
		}
		s := e.String()
		if want := e.Type.String() + " " + e.Path; !strings.HasPrefix(s, want) {
			t.Fatalf("%q does not start with %q", s, want)
		}
		if !utf8.ValidString(path) {
			return
		}
		if e.Err != nil && !strings.Contains(s, " err=") {
			t.Fatalf("%q does not show the error", s)
		}
		_ = e.Exit.String()
		_ = e.From.String()
	})
}

// fuzzString makes s valid UTF-8, as JSON does (which replaces invalid
// bytes), so that a round trip can be exact.
func fuzzString(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// fuzzInstant turns an int64 into a UTC time within JSON's range; MinInt64
// stands for the zero time.
func fuzzInstant(n int64) time.Time {
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
