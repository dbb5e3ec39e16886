package otelsup

import (
	"errors"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// Operator commands, as sdk.Event.Command spells them.
const (
	opRestart = "restart"
	opResume  = "resume"
)

// cmdState is an operator command between its EventCommand and its
// EventCommandDone.
type cmdState struct {
	span     trace.Span
	op       string
	k        key       // the child's
	sup      string    // the supervisor's path
	prev     *cmdState // an older command of the same child, still open
	launched uint64    // the attempt a restart or resume launched
	running  bool      // it arrived before the supervisor began shutting down
}

// onCommand starts a command span. The sdk answers every command with one
// EventCommandDone: a command it answers at once is answered before its
// next message, so the newest open command of the child with the same op
// is the one an EventCommandDone completes.
func (t *tracing) onCommand(s *supState, e sdk.Event) {
	k := key{e.Tree, e.Path}
	var links []trace.Link
	if cs := t.kids[k]; cs != nil {
		links = link(cs.startSC, LinkTargetAttempt, links)
	}
	links = link(e.Span, LinkCaller, links)
	span := t.start(SpanCommand, e.Time, links,
		AttrCommand.String(e.Command),
		lifecycle.AttrChildPath.String(e.Path),
		lifecycle.AttrSupervisorPath.String(s.path),
		AttrRequestedBy.String(e.RequestedBy),
		AttrReason.String(e.Cause))
	if t.nCmds >= maxCommands {
		endCommand(span, e.Time, OutcomeUntracked, "")
		return
	}
	t.cmds[k] = &cmdState{span: span, op: e.Command, k: k, sup: s.path, prev: t.cmds[k], running: s.shut == nil}
	t.nCmds++
}

// onCommandDone ends the command span the event answers, with the
// outcome the sdk's Result and Err say. A duplicate the sdk merged into a
// command under way (Result merged) ends at once, and the command it
// joined gets a merged event.
func (t *tracing) onCommandDone(e sdk.Event) {
	k := key{e.Tree, e.Path}
	var newer *cmdState
	cmd := t.cmds[k]
	for cmd != nil && cmd.op != e.Command {
		newer, cmd = cmd, cmd.prev
	}
	if cmd == nil {
		return // untracked
	}
	t.unlink(cmd, newer)
	if e.Result == sdk.CommandMerged {
		for c := cmd.prev; c != nil; c = c.prev {
			if c.op == e.Command {
				event(c.span, SpanEventCommandMerged, e.Time,
					AttrRequestedBy.String(e.RequestedBy), AttrReason.String(e.Cause))
				break
			}
		}
		endCommand(cmd.span, e.Time, OutcomeMerged, "")
		return
	}
	if cmd.launched > 0 && recording(cmd.span) {
		cmd.span.SetAttributes(AttrChildAttempt.Int64(int64(cmd.launched)))
	}
	outcome := OutcomeDone
	switch {
	case e.Err == nil:
	case errors.Is(e.Err, sdk.ErrAbandoned):
		outcome = OutcomeAbandoned
	case errors.Is(e.Err, sdk.ErrChildExited),
		errors.Is(e.Err, sdk.ErrSupervisorDone) && cmd.running: // the shutdown took over
		outcome = OutcomeInterrupted
	default:
		outcome = OutcomeRejected
	}
	endCommand(cmd.span, e.Time, outcome, errText(e.Err))
}

// unlink removes cmd from its child's open commands; newer is the command
// opened after it, nil when cmd is the newest.
func (t *tracing) unlink(cmd, newer *cmdState) {
	switch {
	case newer != nil:
		newer.prev = cmd.prev
	case cmd.prev != nil:
		t.cmds[cmd.k] = cmd.prev
	default:
		delete(t.cmds, cmd.k)
	}
	t.nCmds--
}

// endCommands ends every open command of the supervisor sup of the tree
// (of every supervisor when tree is 0) as interrupted.
func (t *tracing) endCommands(tree uint64, sup string, at time.Time, desc string) {
	for _, cmd := range t.cmds {
		var newer *cmdState
		for cmd != nil {
			prev := cmd.prev
			if tree == 0 || cmd.k.tree == tree && cmd.sup == sup {
				t.unlink(cmd, newer)
				endCommand(cmd.span, at, OutcomeInterrupted, desc)
			} else {
				newer = cmd
			}
			cmd = prev
		}
	}
}

// endCommand ends a command span with its outcome; the outcomes that are
// failures set status Error with desc and error.type = outcome.
func endCommand(span trace.Span, at time.Time, outcome, desc string) {
	if recording(span) {
		span.SetAttributes(AttrCommandOutcome.String(outcome))
		switch outcome {
		case OutcomeRejected, OutcomeAbandoned, OutcomeInterrupted:
			fail(span, desc, outcome)
		}
	}
	end(span, at)
}
