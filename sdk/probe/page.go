package probe

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// rowsPerPage bounds the rows of one HTML page, so that a tree of 10,000
// children is a few pages of a bounded size, not one page of megabytes.
const rowsPerPage = 500

// maxPageEvents and maxProblems bound the recent events and the problem
// list shown on a page.
const (
	maxPageEvents = 100
	maxProblems   = 20
)

// page is what the HTML template shows.
type page struct {
	Path, State, Ready, Reason string
	Generated                  string
	RefreshMillis              int64 // 0: no auto-refresh
	Rows                       []row
	// Page (from 1) of Pages, showing rows From to To of Total.
	Page, Pages, From, To, Total int
	PrevURL, NextURL             string
	Failed, Backoff              int
	Problems                     []problem // failed or backoff rows, wherever they are
	Events                       []event   // newest first
}

type row struct {
	Indent                                int // in em
	Class                                 string
	Path, State, Attempt, Restarts, Ready string
	LastError, InState                    string
	ErrorAge, Failures, Up, NextRestart   string
	PausedBy                              string
}

type problem struct {
	Path, State, URL string
}

type event struct {
	Seq             uint64
	Time, Type      string
	Path, Text, Bad string
}

// newPage lays out the page'th page (from 1; clamped) of st.
func newPage(st sdk.Status, now time.Time, pageNo int, refresh time.Duration, base url.Values) page {
	p := page{
		Path:          st.Path,
		State:         stateLabel(st.Health.State),
		Ready:         yesNo(st.Ready),
		Generated:     now.UTC().Format(time.RFC3339),
		RefreshMillis: refresh.Milliseconds(),
	}
	switch hl := st.Health; {
	case hl.Failure != nil:
		p.Reason = hl.Failure.Reason
	case hl.Exit != nil:
		p.Reason = hl.Exit.Reason
	case hl.Shutdown != nil:
		p.Reason = "shutdown requested by " + hl.Shutdown.RequestedBy + ": " + hl.Shutdown.Reason
	}
	rows := []row{{
		Indent:    1,
		Class:     classes(true, !st.Ready, 0, false),
		Path:      st.Path,
		State:     p.State,
		Ready:     p.Ready,
		LastError: p.Reason,
		InState:   age(st.Health.Since, now),
	}}
	var evs []sdk.RecordedEvent
	rows, evs = appendRows(rows, st, 1, now, evs)

	p.Total = len(rows)
	p.Pages = max(1, (len(rows)+rowsPerPage-1)/rowsPerPage)
	p.Page = min(max(pageNo, 1), p.Pages)
	from := (p.Page - 1) * rowsPerPage
	to := min(from+rowsPerPage, len(rows))
	p.Rows, p.From, p.To = rows[from:to], from+1, to
	if p.Page > 1 {
		p.PrevURL = pageURL(base, p.Page-1)
	}
	if p.Page < p.Pages {
		p.NextURL = pageURL(base, p.Page+1)
	}
	for i := range rows {
		switch {
		case strings.Contains(rows[i].Class, "failed"):
			p.Failed++
		case strings.Contains(rows[i].Class, "backoff"):
			p.Backoff++
		default:
			continue
		}
		if len(p.Problems) < maxProblems {
			p.Problems = append(p.Problems, problem{Path: rows[i].Path, State: rows[i].State, URL: pageURL(base, i/rowsPerPage+1)})
		}
	}

	// The tree's recent events, each supervisor's merged: newest first.
	slices.SortFunc(evs, func(a, b sdk.RecordedEvent) int { return cmp.Compare(b.Seq, a.Seq) })
	for _, e := range evs[:min(len(evs), maxPageEvents)] {
		ev := event{Seq: e.Seq, Time: e.Time.Format("15:04:05.000"), Type: e.Type, Path: e.Path, Text: e.Text}
		if badEvent(e.Type) {
			ev.Bad = "bad"
		}
		p.Events = append(p.Events, ev)
	}
	return p
}

func appendRows(rows []row, st sdk.Status, depth int, now time.Time, evs []sdk.RecordedEvent) ([]row, []sdk.RecordedEvent) {
	evs = append(evs, st.Events...)
	for _, c := range st.Children {
		rw := row{
			Indent:    1 + depth*2,
			Path:      c.Path,
			State:     stateLabel(c.State),
			Attempt:   strconv.FormatUint(c.Attempt, 10),
			Restarts:  strconv.Itoa(c.Restarts),
			Ready:     "–",
			LastError: c.LastError,
			InState:   age(c.Since, now),
			ErrorAge:  ago(c.LastErrorAt, now),
			Up:        age(c.UpSince, now),
			PausedBy:  pausedBy(c),
		}
		if c.ConsecutiveFailures > 0 {
			rw.Failures = strconv.Itoa(c.ConsecutiveFailures)
		}
		if !c.NextRestart.IsZero() {
			rw.NextRestart = "in " + age(now, c.NextRestart)
		}
		bad := c.State == lifecycle.StateFailed || c.State == lifecycle.StateBackoff
		switch {
		case c.Supervisor != nil:
			rw.Ready = yesNo(c.Supervisor.Ready)
			bad = bad || (c.Supervisor.Health.Alive && !c.Supervisor.Ready)
		case c.DeclaresReadiness:
			rw.Ready = yesNo(c.Ready)
			bad = bad || (!c.Ready && !c.Paused && !terminal(c.State))
		}
		if c.Paused {
			rw.State += " (paused)"
		}
		rw.Class = classes(c.Supervisor != nil, bad, c.State, c.Paused)
		rows = append(rows, rw)
		if c.Supervisor != nil {
			rows, evs = appendRows(rows, *c.Supervisor, depth+1, now, evs)
		}
	}
	return rows, evs
}

// classes are a row's CSS classes: sup for a supervisor, bad for
// anything wrong, and failed, backoff or paused for those states, so that
// they stand out.
func classes(sup, bad bool, s lifecycle.State, paused bool) string {
	var cs []string
	if sup {
		cs = append(cs, "sup")
	}
	if bad {
		cs = append(cs, "bad")
	}
	switch {
	case s == lifecycle.StateFailed:
		cs = append(cs, "failed")
	case s == lifecycle.StateBackoff:
		cs = append(cs, "backoff")
	case paused:
		cs = append(cs, "paused")
	}
	return strings.Join(cs, " ")
}

func badEvent(typ string) bool {
	switch typ {
	case "child_exited", "child_panicked", "child_stale", "child_abandoned", "meltdown", "hook_panicked":
		return true
	}
	return false
}

func pausedBy(c sdk.ChildStatus) string {
	switch {
	case c.PausedBy != "" && c.PausedReason != "":
		return c.PausedBy + ": " + c.PausedReason
	case c.PausedBy != "":
		return c.PausedBy
	}
	return c.PausedReason
}

func pageURL(base url.Values, n int) string {
	q := url.Values{}
	for k, v := range base {
		q[k] = v
	}
	q.Set("page", strconv.Itoa(n))
	return "?" + q.Encode()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// age formats how long ago since was, coarsely.
func age(since, now time.Time) string {
	if since.IsZero() {
		return ""
	}
	d := max(now.Sub(since), 0)
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	default:
		return d.Round(time.Minute).String()
	}
}

func ago(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	return age(t, now) + " ago"
}
