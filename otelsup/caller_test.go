package otelsup

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// A command or a shutdown issued with a context that carries a span (an
// HTTP request's, say) links its span to that caller: from the request's
// trace in Jaeger one reaches what the supervisor did about it. The
// supervisor's spans stay roots of their own traces.
func TestSpansLinkTheCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newTraceEnv(t)
		root, err := sdk.New("root", env.a.Options()...)
		if err != nil {
			t.Fatal(err)
		}
		if err := root.Add(context.Background(), sdk.Spec{Name: "w", Service: sdk.ServiceFunc(func(ctx context.Context) error {
			<-ctx.Done()
			return nil
		})}, "test", "declared by the test"); err != nil {
			t.Fatal(err)
		}
		if err := root.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
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
