package sdktest

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// FindChild returns the report of the child at path, at any depth of
// rep's tree, and whether there is one.
func FindChild(rep *sdk.Report, path string) (sdk.ChildReport, bool) {
	for _, c := range children(rep) {
		if c.Path == path {
			return c, true
		}
	}
	return sdk.ChildReport{}, false
}

// children lists every child of rep's tree, depth first, each before its
// own children.
func children(rep *sdk.Report) []sdk.ChildReport {
	if rep == nil {
		return nil
	}
	var out []sdk.ChildReport
	for _, c := range rep.Children {
		out = append(out, c)
		out = append(out, children(c.Supervisor)...)
	}
	return out
}

// ExpectStates checks that the children of rep's tree, at every depth,
// are exactly those of want (by path) and ended in its states. Every
// difference is reported with tb.Errorf; a nil report stops the test
// with tb.Fatalf. It returns whether all matched.
func ExpectStates(tb testing.TB, rep *sdk.Report, want map[string]lifecycle.State) bool {
	tb.Helper()
	return expect(tb, rep, "state", want, func(c sdk.ChildReport) lifecycle.State { return c.State })
}

// ExpectOutcomes is ExpectStates for the children's stop outcomes
// (graceful, abandoned, already_exited, never_started, removed).
func ExpectOutcomes(tb testing.TB, rep *sdk.Report, want map[string]sdk.StopOutcome) bool {
	tb.Helper()
	return expect(tb, rep, "outcome", want, func(c sdk.ChildReport) sdk.StopOutcome { return c.Outcome })
}

// ExpectAbandoned checks that the children rep's tree abandoned are
// exactly paths, in any order; with no path, that none was.
func ExpectAbandoned(tb testing.TB, rep *sdk.Report, paths ...string) bool {
	tb.Helper()
	if rep == nil {
		tb.Fatalf("sdktest: no report")
		return false
	}
	got, want := slices.Sorted(slices.Values(rep.Abandoned())), slices.Sorted(slices.Values(paths))
	if !slices.Equal(got, want) {
		tb.Errorf("sdktest: %s abandoned %q, want %q", rep.Path, got, want)
		return false
	}
	return true
}

func expect[V comparable](tb testing.TB, rep *sdk.Report, field string, want map[string]V, get func(sdk.ChildReport) V) bool {
	tb.Helper()
	if rep == nil {
		tb.Fatalf("sdktest: no report")
		return false
	}
	ok := true
	got := map[string]V{}
	for _, c := range children(rep) {
		got[c.Path] = get(c)
	}
	// Sorted, so that the same failure reads the same on every run.
	for _, p := range slices.Sorted(maps.Keys(want)) {
		g, found := got[p]
		switch {
		case !found:
			tb.Errorf("sdktest: report of %s: no child %s (want %s %v)", rep.Path, p, field, fmtV(want[p]))
			ok = false
		case g != want[p]:
			tb.Errorf("sdktest: report of %s: %s: %s %v, want %v", rep.Path, p, field, fmtV(g), fmtV(want[p]))
			ok = false
		}
	}
	for _, p := range slices.Sorted(maps.Keys(got)) {
		if _, expected := want[p]; !expected {
			tb.Errorf("sdktest: report of %s: unexpected child %s (%s %v)", rep.Path, p, field, fmtV(got[p]))
			ok = false
		}
	}
	return ok
}

// fmtV shows an empty outcome as such rather than as nothing.
func fmtV[V any](v V) string {
	if s := fmt.Sprint(v); s != "" {
		return s
	}
	return `""`
}
