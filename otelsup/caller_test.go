package otelsup

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// A command or a shutdown issued with a context that carries a span (an
// HTTP request's, say) links its span to that caller: from the request's
// trace in Jaeger one reaches what the supervisor did about it. The
// supervisor's spans stay roots of their own traces.
func TestSpansLinkTheCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newTraceEnv(t)
		root := env.tree(t, idleChild("w"))
		tr := env.tp.Tracer("test")
		reqCtx, req := tr.Start(context.Background(), "POST /restart")
		if err := cmdErr(root.Restart(reqCtx, "w", "alice", "new config")); err != nil {
			t.Fatal(err)
		}
		req.End()
		if err := cmdErr(root.Pause(context.Background(), "w", "bob", "no caller span")); err != nil {
			t.Fatal(err)
		}
		deployCtx, deploy := tr.Start(context.Background(), "deploy")
		if _, err := root.Shutdown(deployCtx, "ops", "rollout"); err != nil {
			t.Fatal(err)
		}
		deploy.End()
		env.checkAllEnded(t)

		cmds := env.spans(SpanCommand)
		if len(cmds) != 2 {
			t.Fatalf("%d command spans, want 2", len(cmds))
		}
		eqList(t, "restart links", env.links(cmds[0]), []string{"target_attempt→/root/w#1", "caller→POST /restart"})
		eqList(t, "pause links", env.links(cmds[1]), []string{"target_attempt→/root/w#2"})
		shut := env.one(t, SpanShutdown, lifecycle.AttrSupervisorPath, "/root")
		eqList(t, "shutdown links", env.links(shut), []string{"supervisor_start→supervisor.start /root", "caller→deploy"})
		for _, s := range append(cmds, shut) {
			isRoot(t, s)
		}
	})
}
