package config

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/supervisor-sdk/supervisor/sdk"
)

func TestRegistry(t *testing.T) {
	var reg Registry
	ok := func(FactoryContext) (sdk.Service, error) { return sdk.ServiceFunc(idle), nil }
	if err := reg.Register("b.task", ok); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register("a_task", ok); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key  string
		f    Factory
		want string
	}{
		{"a_task", ok, `config: task "a_task" is already registered`},
		{"", ok, `config: invalid task key "": want a letter or '_', then letters, digits, '_', '-' or '.'`},
		{"9lives", ok, `config: invalid task key "9lives": want a letter or '_', then letters, digits, '_', '-' or '.'`},
		{"has space", ok, `config: invalid task key "has space": want a letter or '_', then letters, digits, '_', '-' or '.'`},
		{"nil", nil, `config: task "nil": nil factory`},
	} {
		if err := reg.Register(tc.key, tc.f); err == nil || err.Error() != tc.want {
			t.Errorf("Register(%q): %v, want %s", tc.key, err, tc.want)
		}
	}
	if got := reg.Keys(); !slices.Equal(got, []string{"a_task", "b.task"}) {
		t.Errorf("Keys() = %v", got)
	}
}

// TestBuildFactoryContext: each factory is called once per child, with
// the child's tree path, configuration path and effective spec.
func TestBuildFactoryContext(t *testing.T) {
	cfg, err := loadString(t, YAML, `
name: root
defaults: {stop_timeout: 3s}
children:
  - name: api
    task: svc
    readiness: true
  - name: jobs
    supervisor:
      children:
        - name: nightly
          task: svc
          role: job
`)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []FactoryContext
	reg := &Registry{}
	reg.Register("svc", func(fc FactoryContext) (sdk.Service, error) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fc)
		return sdk.ServiceFunc(idle), nil
	})
	tree, err := Build(cfg, reg)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("factories called %d times", len(got))
	}
	api, nightly := got[0], got[1]
	if api.Task != "svc" || api.Name != "api" || api.Path != "/root/api" || api.Field != "children[0]" ||
		!api.Spec.Readiness || api.Spec.StopTimeout != 3*time.Second || api.Spec.Service != nil {
		t.Errorf("api: %+v", api)
	}
	if nightly.Path != "/root/jobs/nightly" || nightly.Field != "children[1].supervisor.children[0]" ||
		nightly.Spec.Role != sdk.RoleJob || nightly.Spec.Restart != sdk.Transient || nightly.Spec.Backoff.Initial != time.Second {
		t.Errorf("nightly: %+v", nightly)
	}
	if tree.Root.Name() != "root" || tree.Supervisor("/root") != tree.Root || tree.Supervisor("/root/jobs").Path() != "/root/jobs" {
		t.Errorf("tree: %+v", tree)
	}
	if tree.Supervisor("/nope") != nil {
		t.Error("unknown path found")
	}
}

// TestBuildProblems: factory failures and sdk's rejections are reported at
// the configuration path, all of them, and nothing is returned.
func TestBuildProblems(t *testing.T) {
	cfg, err := loadString(t, YAML, `
name: root
children:
  - name: a
    task: fails
  - name: b
    task: nil
  - name: sub
    supervisor:
      children:
        - name: c
          task: fails
`)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("no database URL")
	reg := &Registry{}
	reg.Register("fails", func(FactoryContext) (sdk.Service, error) { return nil, boom })
	reg.Register("nil", func(FactoryContext) (sdk.Service, error) { return nil, nil })
	tree, err := Build(cfg, reg)
	if tree != nil {
		t.Error("a tree was returned")
	}
	want := []string{
		`line 5: children[0].task: task "fails": no database URL`,
		`line 7: children[1].task: task "nil": the factory returned a nil service`,
		`line 12: children[2].supervisor.children[0].task: task "fails": no database URL`,
	}
	if got := messages(t, err); !slices.Equal(got, want) {
		t.Errorf("got %q", got)
	}
	if !errors.Is(err, boom) {
		t.Error("the factory's error is not wrapped")
	}

	// Options given to Build that sdk rejects are reported too.
	cfg, err = loadString(t, YAML, "name: root\n")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(cfg, reg, sdk.WithRand(nil))
	if got := messages(t, err); !slices.Equal(got, []string{"line 1: rand: is nil (rejected by sdk)"}) || !errors.Is(err, sdk.ErrInvalidSpec) {
		t.Errorf("got %q", got)
	}

	// A nil registry has no tasks.
	cfg, err = loadString(t, YAML, "name: root\nchildren: [{name: a, task: x}]\n")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(cfg, nil)
	if got := messages(t, err); !slices.Equal(got, []string{`line 2: children[0].task: unknown task "x" (there are no registered tasks)`}) {
		t.Errorf("got %q", got)
	}
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{
		"Name": "name", "Backoff.ResetAfter": "backoff.reset_after", "DependsOn[1]": "depends_on[1]",
		"Intensity.MaxRestarts": "intensity.max_restarts", "name": "name", "StopTimeout": "stop_timeout",
	} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBuiltTreeRuns runs a tree built from YAML: the backoff policy of the
// file is the one the supervisor applies, events of the nested supervisor
// reach the hook given to Build, and Shutdown applies the file's deadline.
func TestBuiltTreeRuns(t *testing.T) {
	cfg, err := loadString(t, YAML, `
name: root
shutdown: {deadline: 300ms}
children:
  - name: stuck
    task: stuck
    stop_timeout: 1m
  - name: jobs
    supervisor:
      defaults:
        backoff: {initial: 37ms, multiplier: 1, jitter: none}
      children:
        - name: flaky
          task: flaky
          role: worker
`)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	defer close(release) // lets the abandoned child end, for goleak
	var failures atomic.Int32
	reg := &Registry{}
	reg.Register("stuck", func(FactoryContext) (sdk.Service, error) {
		return sdk.ServiceFunc(func(ctx context.Context) error {
			<-release // ignores ctx: it will be abandoned at the deadline
			return nil
		}), nil
	})
	reg.Register("flaky", func(FactoryContext) (sdk.Service, error) {
		return sdk.ServiceFunc(func(ctx context.Context) error {
			if failures.Add(1) <= 2 {
				return errors.New("not yet")
			}
			return idle(ctx)
		}), nil
	})
	var mu sync.Mutex
	var delays []time.Duration
	tree, err := Build(cfg, reg, sdk.WithEventHook(func(e sdk.Event) {
		if e.Type == sdk.EventChildBackoff && e.Path == "/root/jobs/flaky" {
			mu.Lock()
			delays = append(delays, e.Delay)
			mu.Unlock()
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if tree.ShutdownDeadline != 300*time.Millisecond {
		t.Errorf("ShutdownDeadline = %v", tree.ShutdownDeadline)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tree.Root.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for failures.Load() < 3 && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	rep, err := tree.Shutdown(context.Background(), "test", "done")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("shutdown took %v: the deadline was not applied", took)
	}
	if !errors.Is(err, sdk.ErrAbandoned) || !slices.Equal(rep.Abandoned(), []string{"/root/stuck"}) {
		t.Errorf("shutdown: %v, abandoned %v", err, rep.Abandoned())
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(delays, []time.Duration{37 * time.Millisecond, 37 * time.Millisecond}) {
		t.Errorf("backoff delays %v, want the file's 37ms twice", delays)
	}
	if !strings.HasPrefix(rep.Path, "/root") {
		t.Errorf("report: %+v", rep)
	}
}

// failure_limit reaches the spec, and a bad value names the field.
func TestFailureLimit(t *testing.T) {
	cfg, err := Load(strings.NewReader("name: r\nchildren:\n  - name: a\n    task: t\n    failure_limit: -1\n  - name: b\n    task: t\n    failure_limit: -5\n"), YAML)
	if err == nil {
		err = cfg.Validate(nil)
	}
	if err == nil || !strings.Contains(err.Error(), "children[1].failure_limit: must be -1 (no limit), 0 (the default) or positive, not -5") {
		t.Fatalf("error: %v", err)
	}
}
