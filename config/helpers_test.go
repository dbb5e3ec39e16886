package config

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// testTasks are the task keys of the test registry.
var testTasks = []string{"http", "poll", "send", "consume", "cache", "ledger", "invoices", "read", "write", "parse", "enrich", "db"}

func idle(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// testRegistry returns a registry whose tasks idle until stopped.
func testRegistry(t testing.TB) *Registry {
	t.Helper()
	reg := &Registry{}
	for _, k := range testTasks {
		if err := reg.Register(k, func(FactoryContext) (sdk.Service, error) { return sdk.ServiceFunc(idle), nil }); err != nil {
			t.Fatal(err)
		}
	}
	return reg
}

// messages returns the problems of err, which must be a *ValidationError.
func messages(t testing.TB, err error) []string {
	t.Helper()
	ve, ok := err.(*ValidationError)
	if !ok {
		t.Fatalf("error is %T, not *ValidationError: %v", err, err)
	}
	return ve.Messages()
}

// The golden form of a plan: the effective settings given to sdk, with
// the labels of the file format.

type goldenSupervisor struct {
	Name             string          `json:"name"`
	Strategy         string          `json:"strategy"`
	Intensity        goldenIntensity `json:"intensity"`
	ShutdownOrder    string          `json:"shutdown_order"`
	AutoShutdown     string          `json:"auto_shutdown"`
	ShutdownDeadline string          `json:"shutdown_deadline,omitempty"`
	Children         []goldenChild   `json:"children"`
}

type goldenIntensity struct {
	MaxRestarts int    `json:"max_restarts"`
	Period      string `json:"period"`
}

type goldenChild struct {
	Field        string            `json:"field"`
	Name         string            `json:"name"`
	Task         string            `json:"task,omitempty"`
	Role         string            `json:"role"`
	Restart      string            `json:"restart"`
	Backoff      map[string]any    `json:"backoff"`
	StopTimeout  string            `json:"stop_timeout"`
	Readiness    bool              `json:"readiness,omitempty"`
	StartTimeout string            `json:"start_timeout,omitempty"`
	DependsOn    []string          `json:"depends_on,omitempty"`
	StaleAfter   string            `json:"stale_after,omitempty"`
	Significant  bool              `json:"significant,omitempty"`
	Supervisor   *goldenSupervisor `json:"supervisor,omitempty"`
}

func label[L ~string, V comparable](table []struct {
	label L
	v     V
}, v V) string {
	for _, e := range table {
		if e.v == v {
			return string(e.label)
		}
	}
	return "?"
}

func golden(p *supPlan) *goldenSupervisor {
	g := &goldenSupervisor{
		Name:          p.name,
		Strategy:      label(strategies, p.strategy),
		Intensity:     goldenIntensity{p.intensity.MaxRestarts, p.intensity.Period.String()},
		ShutdownOrder: label(shutdownOrders, p.order),
		AutoShutdown:  label(autoShutdowns, p.auto),
		Children:      []goldenChild{},
	}
	if p.deadline > 0 {
		g.ShutdownDeadline = p.deadline.String()
	}
	for _, c := range p.children {
		s := c.spec
		gc := goldenChild{
			Field:   c.field.String(),
			Name:    s.Name,
			Task:    c.task,
			Role:    label(roles, s.Role),
			Restart: label(restarts, s.Restart),
			Backoff: map[string]any{
				"initial": s.Backoff.Initial.String(), "max": s.Backoff.Max.String(),
				"multiplier": s.Backoff.Multiplier, "jitter": s.Backoff.Jitter.String(),
				"reset_after": s.Backoff.ResetAfter.String(),
			},
			StopTimeout: s.StopTimeout.String(),
			Readiness:   s.Readiness,
			DependsOn:   s.DependsOn,
			Significant: s.Significant,
		}
		if s.StartTimeout > 0 {
			gc.StartTimeout = s.StartTimeout.String()
		}
		if s.StaleAfter > 0 {
			gc.StaleAfter = s.StaleAfter.String()
		}
		if c.sup != nil {
			gc.Supervisor = golden(c.sup)
		}
		g.Children = append(g.Children, gc)
	}
	return g
}

func goldenJSON(t testing.TB, p *supPlan) []byte {
	t.Helper()
	b, err := json.MarshalIndent(golden(p), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// plan validates cfg against the test registry and returns its plan.
func plan(t testing.TB, cfg *Config) *supPlan {
	t.Helper()
	ps := &problems{fields: cfg.fields}
	p := check(cfg, testRegistry(t), true, ps)
	if err := ps.err(cfg.source); err != nil {
		t.Fatalf("invalid: %v", err)
	}
	return p
}

func lines(s ...string) string { return strings.Join(s, "\n") + "\n" }
