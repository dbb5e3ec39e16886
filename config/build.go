package config

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// Tree is a supervision tree built from a configuration, ready to run.
type Tree struct {
	// Root is the top-level supervisor. Run it with Serve, Run or Start.
	Root *sdk.Supervisor
	// ShutdownDeadline is the configuration's shutdown.deadline, 0 when
	// unset: the bound on the whole shutdown that Tree.Shutdown applies.
	// sdk has no such option; the bound is the deadline of the context
	// given to Shutdown, which is why it is kept here.
	ShutdownDeadline time.Duration

	supervisors map[string]*sdk.Supervisor
}

// Supervisor returns the supervisor at path in the tree, such as "/root"
// or "/root/jobs", or nil. Use it to control a nested supervisor's
// children (Restart, Pause, ...).
func (t *Tree) Supervisor(path string) *sdk.Supervisor { return t.supervisors[path] }

// Shutdown shuts the tree down as Root.Shutdown does, bounded by
// ShutdownDeadline when it is set (and by ctx).
func (t *Tree) Shutdown(ctx context.Context, requestedBy, reason string) (*sdk.Report, error) {
	if t.ShutdownDeadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.ShutdownDeadline)
		defer cancel()
	}
	return t.Root.Shutdown(ctx, requestedBy, reason)
}

// Build validates cfg against reg (a nil registry has no tasks) and builds
// the tree it describes: the top-level supervisor, every child with the
// values it inherits applied, and nested supervisors. Nothing is started;
// on any problem nothing is returned, and the *ValidationError lists them
// all, each at the path of the field in the configuration.
//
// opts are given to the top-level supervisor after the options that come
// from the configuration, so they win over it. Events of nested supervisors
// reach the top-level supervisor's hooks and subscriptions, and nested
// supervisors inherit its state metrics; other options (WithRand,
// WithPanicPassThrough) apply to the top-level supervisor only.
func Build(cfg *Config, reg *Registry, opts ...sdk.Option) (*Tree, error) {
	if reg == nil {
		reg = &Registry{}
	}
	ps := &problems{fields: cfg.fields}
	plan := check(cfg, reg, true, ps)
	if err := ps.err(cfg.source); err != nil {
		return nil, err
	}
	b := &builder{problems: ps, reg: reg, tree: &Tree{ShutdownDeadline: plan.deadline, supervisors: make(map[string]*sdk.Supervisor)}}
	root := b.supervisor(plan, "/"+plan.name, opts)
	if err := ps.err(cfg.source); err != nil {
		return nil, err
	}
	b.tree.Root = root
	return b.tree, nil
}

type builder struct {
	*problems
	reg  *Registry
	tree *Tree
}

func (b *builder) supervisor(p *supPlan, path string, extra []sdk.Option) *sdk.Supervisor {
	opts := []sdk.Option{sdk.WithStrategy(p.strategy), sdk.WithIntensity(p.intensity),
		sdk.WithShutdownOrder(p.order), sdk.WithAutoShutdown(p.auto)}
	sup, err := sdk.New(p.name, append(opts, extra...)...)
	if err != nil {
		b.sdkProblem(p.field, "", err)
		return nil
	}
	b.tree.supervisors[path] = sup
	for _, c := range p.children {
		spec := c.spec
		childPath := path + "/" + spec.Name
		if c.sup != nil {
			sub := b.supervisor(c.sup, childPath, nil)
			if sub == nil {
				continue
			}
			spec.Service = sub
		} else {
			f, _ := b.reg.lookup(c.task)
			// The factory gets its own copy of what the spec points to.
			view := spec
			backoff := *spec.Backoff
			view.Backoff, view.DependsOn = &backoff, slices.Clone(spec.DependsOn)
			svc, err := f(FactoryContext{Task: c.task, Name: spec.Name, Path: childPath, Field: c.field.String(), Spec: view})
			task := b.at(c.field, "task")
			switch {
			case err != nil:
				b.push(Problem{Path: task.String(), Line: task.line, Message: fmt.Sprintf("task %s: %v", quote(c.task), err), Err: err})
				continue
			case svc == nil:
				b.add(task, "task %s: the factory returned a nil service", quote(c.task))
				continue
			}
			spec.Service = svc
		}
		if err := sup.Add(context.Background(), spec, "config", "declared in the configuration"); err != nil {
			b.sdkProblem(c.field, "task", err)
		}
	}
	return sup
}

// sdkProblem maps an error of sdk.New or Supervisor.Add back to the
// configuration: a *sdk.SpecError's field ("Backoff.Max") becomes the
// path of the field in the file ("children[2].backoff.max"). Validation
// should have caught everything sdk rejects, so this is a safety net.
func (b *builder) sdkProblem(field *fieldPath, serviceField string, err error) {
	path, msg := field, err.Error()
	var se *sdk.SpecError
	if errors.As(err, &se) {
		msg = se.Problem + " (rejected by sdk)"
		switch {
		case se.Field == "Service" && serviceField != "":
			path = b.at(field, serviceField)
		case se.Field == "Service":
			path = b.at(field, "supervisor")
		case se.Field != "":
			path = b.below(field, snake(se.Field))
		}
	}
	b.push(Problem{Path: path.String(), Line: path.line, Message: msg, Err: err})
}

// below extends p by a path in the configuration's syntax, such as
// "backoff.reset_after" or "depends_on[1]", segment by segment so that
// the line is the field's.
func (b *builder) below(p *fieldPath, rel string) *fieldPath {
	for _, seg := range strings.Split(rel, ".") {
		name, rest, _ := strings.Cut(seg, "[")
		p = b.at(p, name)
		for rest != "" {
			num, after, _ := strings.Cut(rest, "]")
			i, err := strconv.Atoi(num)
			if err != nil {
				return b.at(p, "["+rest) // not an index: keep the text
			}
			p = b.elem(p, i)
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return p
}

// snake turns an sdk field path ("Backoff.ResetAfter", "DependsOn[1]")
// into the configuration's ("backoff.reset_after", "depends_on[1]").
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 && s[i-1] != '.' {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
