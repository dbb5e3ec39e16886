package config

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// Validate checks cfg and reports every problem at once, in a
// *ValidationError. With a registry, every task must be registered in it;
// with nil, task keys are not checked (Load validates that way, Build with
// its registry).
func (c *Config) Validate(reg *Registry) error {
	ps := &problems{fields: c.fields}
	check(c, reg, reg != nil, ps)
	return ps.err(c.source)
}

// supPlan is a supervisor as it will be built: the effective sdk settings
// and children.
type supPlan struct {
	field     *fieldPath // path of the supervisor's settings: the root at the top, "children[1].supervisor" below
	name      string
	strategy  sdk.Strategy
	intensity sdk.Intensity
	order     sdk.ShutdownOrder
	auto      sdk.AutoShutdown
	deadline  time.Duration
	children  []*childPlan
}

// childPlan is a child as it will be added: its effective spec (all but
// Service) and what provides the service.
type childPlan struct {
	field *fieldPath // "children[1]", "children[1].supervisor.children[0]"
	task  string
	sup   *supPlan
	spec  sdk.Spec
}

// from is an effective value and where it came from: the path of the field
// that set it, or nil for the role's preset.
type from[T any] struct {
	v   T
	src *fieldPath
}

func (f *from[T]) set(v T, src *fieldPath) { *f = from[T]{v, src} }

// inherited is what a supervisor's children inherit: its defaults over its
// parent's.
type inherited struct {
	role, restart                         from[string]
	initial, max, resetAfter              from[time.Duration]
	multiplier                            from[float64]
	jitter                                from[string]
	stopTimeout, startTimeout, staleAfter from[time.Duration]
}

// maxFailureLimit bounds failure_limit: a higher one is no limit in effect.
const maxFailureLimit = 1000000

type checker struct {
	*problems
	reg        *Registry
	checkTasks bool
	depth      int // of the supervisor being checked, 1 at the top
}

// check validates the whole tree and returns its plan, which is complete
// only when no problem was added.
func check(cfg *Config, reg *Registry, checkTasks bool, ps *problems) *supPlan {
	c := &checker{problems: ps, reg: reg, checkTasks: checkTasks}
	root := ps.fields.top()
	if cfg.Name == "" {
		c.add(c.at(root, "name"), "is required")
	}
	return c.supervisor(cfg, root, cfg.Name, inherited{})
}

func (c *checker) supervisor(cfg *Config, field *fieldPath, name string, up inherited) *supPlan {
	top := field.up == nil
	p := &supPlan{field: field, name: name, strategy: sdk.OneForOne, intensity: sdk.DefaultIntensity()}
	// Load stops at the same depth; a Config built in Go may be deeper, or
	// contain itself.
	if c.depth == MaxDepth {
		c.add(field, "nested too deep: a tree has at most %d levels of supervisors", MaxDepth)
		return p
	}
	c.depth++
	defer func() { c.depth-- }()
	if cfg.Schema != "" && !top {
		c.add(c.at(field, "$schema"), "only the top level may name a schema")
	}
	// sdk owns the rule for names; its error says only what is wrong.
	switch {
	case top && cfg.Name != "":
		if err := sdk.CheckName(cfg.Name); err != nil {
			c.add(c.at(field, "name"), "%v", err)
		}
	case !top && cfg.Name != "" && cfg.Name != name:
		c.add(c.at(field, "name"), "must be %s, the name of the child, or be left out", quote(name))
	}
	if cfg.Strategy != "" {
		if v, ok := lookup(strategies, cfg.Strategy); ok {
			p.strategy = v
		} else {
			c.add(c.at(field, "strategy"), "%s is not a strategy (want %s)", quote(string(cfg.Strategy)), labelsOf(strategies))
		}
	}
	if i := cfg.Intensity; i != nil {
		f := c.at(field, "intensity")
		if m := i.MaxRestarts; m != nil {
			switch {
			case *m < 0:
				c.add(c.at(f, "max_restarts"), "must not be negative (%d)", *m)
			case *m > 10000:
				c.add(c.at(f, "max_restarts"), "must be at most 10000 (%d); express a higher rate with a shorter period", *m)
			default:
				p.intensity.MaxRestarts = *m
			}
		}
		if d := i.Period; d != nil {
			if *d <= 0 {
				c.add(c.at(f, "period"), "must be positive (%s)", *d)
			} else {
				p.intensity.Period = time.Duration(*d)
			}
		}
	}
	if s := cfg.Shutdown; s != nil {
		f := c.at(field, "shutdown")
		if s.Order != "" {
			if v, ok := lookup(shutdownOrders, s.Order); ok {
				p.order = v
			} else {
				c.add(c.at(f, "order"), "%s is not a shutdown order (want %s)", quote(string(s.Order)), labelsOf(shutdownOrders))
			}
		}
		if d := s.Deadline; d != nil {
			switch {
			case !top:
				c.add(c.at(f, "deadline"), "only the top-level supervisor has a shutdown deadline")
			case *d < 0:
				c.add(c.at(f, "deadline"), "must not be negative (%s)", *d)
			default:
				p.deadline = time.Duration(*d)
			}
		}
	}
	if cfg.AutoShutdown != "" {
		if v, ok := lookup(autoShutdowns, cfg.AutoShutdown); ok {
			p.auto = v
		} else {
			c.add(c.at(field, "auto_shutdown"), "%s is not an auto_shutdown mode (want %s)", quote(string(cfg.AutoShutdown)), labelsOf(autoShutdowns))
		}
	}
	in := c.defaults(cfg.Defaults, field, up)

	names := make(map[string]int, len(cfg.Children))
	children := c.at(field, "children")
	for i := range cfg.Children {
		ch := &cfg.Children[i]
		f := c.elem(children, i)
		if first, dup := names[ch.Name]; dup && ch.Name != "" {
			c.add(c.at(f, "name"), "%s is already used by %s", quote(ch.Name), c.elem(children, first))
		} else {
			names[ch.Name] = i
		}
		p.children = append(p.children, c.child(ch, f, field, p.auto, in))
	}
	c.dependencies(cfg, field, names)
	return p
}

// defaults checks the defaults block of the supervisor at sup and lays it
// over the inherited values. Paths are made only for fields that are set:
// the checks of a large tree then cost no more than its fields.
func (c *checker) defaults(d *Defaults, sup *fieldPath, in inherited) inherited {
	if d == nil {
		return in
	}
	field := c.at(sup, "defaults")
	if d.Role != "" {
		if _, ok := lookup(roles, d.Role); ok {
			in.role.set(string(d.Role), c.at(field, "role"))
		} else {
			c.add(c.at(field, "role"), "%s is not a role (want %s)", quote(string(d.Role)), labelsOf(roles))
		}
	}
	if d.Restart != "" {
		if _, ok := lookup(restarts, d.Restart); ok {
			in.restart.set(string(d.Restart), c.at(field, "restart"))
		} else {
			c.add(c.at(field, "restart"), "%s is not a restart type (want %s)", quote(string(d.Restart)), labelsOf(restarts))
		}
	}
	c.backoff(d.Backoff, field, &in)
	c.positive(d.StopTimeout, field, "stop_timeout", &in.stopTimeout, "leave it out to use the role's")
	c.positive(d.StartTimeout, field, "start_timeout", &in.startTimeout, "leave it out for the default of 1m")
	c.nonNegative(d.StaleAfter, field, "stale_after", &in.staleAfter)
	return in
}

// backoff checks the backoff block below owner and lays its fields over
// in.
func (c *checker) backoff(b *Backoff, owner *fieldPath, in *inherited) {
	if b == nil {
		return
	}
	field := c.at(owner, "backoff")
	c.nonNegative(b.Initial, field, "initial", &in.initial)
	c.nonNegative(b.Max, field, "max", &in.max)
	if b.Initial != nil && b.Max != nil && *b.Initial >= 0 && *b.Max >= 0 && *b.Max < *b.Initial &&
		!c.skip(c.at(field, "initial")) {
		c.add(c.at(field, "max"), "must be >= %s (%s)", c.at(field, "initial"), *b.Initial)
	}
	if m := b.Multiplier; m != nil {
		if math.IsNaN(*m) || math.IsInf(*m, 0) || *m < 1 {
			c.add(c.at(field, "multiplier"), "must be a finite number >= 1 (%v)", *m)
		} else {
			in.multiplier.set(*m, c.at(field, "multiplier"))
		}
	}
	if b.Jitter != "" {
		if slices.Contains(jitters, b.Jitter) {
			in.jitter.set(string(b.Jitter), c.at(field, "jitter"))
		} else {
			ls := make([]string, len(jitters))
			for i, j := range jitters {
				ls[i] = string(j)
			}
			c.add(c.at(field, "jitter"), "%s is not a jitter mode (want %s)", quote(string(b.Jitter)), orList(ls))
		}
	}
	c.nonNegative(b.ResetAfter, field, "reset_after", &in.resetAfter)
}

func (c *checker) nonNegative(d *Duration, up *fieldPath, name string, dst *from[time.Duration]) {
	if d == nil {
		return
	}
	field := c.at(up, name)
	switch {
	case *d < 0:
		c.add(field, "must not be negative (%s)", *d)
	default:
		dst.set(time.Duration(*d), field)
	}
}

func (c *checker) positive(d *Duration, up *fieldPath, name string, dst *from[time.Duration], hint string) {
	if d == nil {
		return
	}
	field := c.at(up, name)
	switch {
	case *d < 0:
		c.add(field, "must not be negative (%s)", *d)
	case *d == 0:
		c.add(field, "must be positive (%s)", hint)
	default:
		dst.set(time.Duration(*d), field)
	}
}

// child checks one child and resolves its effective spec: what the child
// sets, else what its supervisor's defaults (and theirs) set, else its
// role's preset.
func (c *checker) child(ch *Child, field, supField *fieldPath, auto sdk.AutoShutdown, up inherited) *childPlan {
	p := &childPlan{field: field, task: ch.Task}
	if ch.Name == "" {
		c.add(c.at(field, "name"), "is required")
	} else if err := sdk.CheckName(ch.Name); err != nil {
		c.add(c.at(field, "name"), "%v", err)
	}
	switch {
	case ch.Task != "" && ch.Supervisor != nil:
		c.add(field, "set task or supervisor, not both")
	case ch.Task == "" && ch.Supervisor == nil && !c.skip(c.at(field, "task"), c.at(field, "supervisor")):
		c.add(field, "set task (a registered service) or supervisor (a nested supervisor)")
	case ch.Task != "" && c.checkTasks:
		if _, ok := c.reg.lookup(ch.Task); !ok {
			hint := ""
			if c.room() { // the keys are sorted for each hint: only for a problem that is listed
				hint = c.hint(ch.Task, c.reg.Keys(), "", "registered tasks")
			}
			c.add(c.at(field, "task"), "unknown task %s%s", quote(ch.Task), hint)
		}
	}
	nested := ch.Supervisor != nil

	// The child's own fields, over what it inherits.
	in := up
	if ch.Role != "" {
		if _, ok := lookup(roles, ch.Role); ok {
			in.role.set(string(ch.Role), c.at(field, "role"))
		} else {
			c.add(c.at(field, "role"), "%s is not a role (want %s)", quote(string(ch.Role)), labelsOf(roles))
		}
	}
	if ch.Restart != "" {
		if _, ok := lookup(restarts, ch.Restart); ok {
			in.restart.set(string(ch.Restart), c.at(field, "restart"))
		} else {
			c.add(c.at(field, "restart"), "%s is not a restart type (want %s)", quote(string(ch.Restart)), labelsOf(restarts))
		}
	}
	c.backoff(ch.Backoff, field, &in)
	c.positive(ch.StopTimeout, field, "stop_timeout", &in.stopTimeout, "leave it out to use the role's")
	in.startTimeout, in.staleAfter = from[time.Duration]{}, from[time.Duration]{}
	if ch.Readiness && !nested {
		in.startTimeout = up.startTimeout
	}
	if !nested {
		in.staleAfter = up.staleAfter
	}
	c.positive(ch.StartTimeout, field, "start_timeout", &in.startTimeout, "leave it out for the default of 1m")
	c.nonNegative(ch.StaleAfter, field, "stale_after", &in.staleAfter)

	role, _ := lookup(roles, Role(in.role.v))
	if in.role.src == nil {
		role = sdk.RoleNone
	}
	pre := presets[role]
	roleName := role.String()
	resolve := func(f from[time.Duration], preset time.Duration) from[time.Duration] {
		if f.src == nil {
			f.v = preset
		}
		return f
	}
	restart := from[sdk.RestartType]{pre.restart, nil}
	if in.restart.src != nil {
		v, _ := lookup(restarts, Restart(in.restart.v))
		restart.set(v, in.restart.src)
	}
	initial := resolve(in.initial, pre.backoff.Initial)
	maxB := resolve(in.max, pre.backoff.Max)
	multiplier := in.multiplier
	if multiplier.src == nil {
		multiplier.v = pre.backoff.Multiplier
	}
	jitter := pre.backoff.Jitter
	if in.jitter.src != nil {
		jitter, _ = sdk.ParseJitter(in.jitter.v)
	}
	p.spec = sdk.Spec{
		Name:    ch.Name,
		Role:    role,
		Restart: restart.v,
		Backoff: &sdk.Backoff{Initial: initial.v, Max: maxB.v, Multiplier: multiplier.v, Jitter: jitter,
			ResetAfter: resolve(in.resetAfter, pre.backoff.ResetAfter).v},
		StopTimeout:  resolve(in.stopTimeout, pre.stopTimeout).v,
		Readiness:    ch.Readiness,
		StartTimeout: in.startTimeout.v,
		DependsOn:    slices.Clone(ch.DependsOn),
		StaleAfter:   in.staleAfter.v,
		Significant:  ch.Significant,
	}
	if ch.FailureLimit != nil {
		switch n := *ch.FailureLimit; {
		case n < -1:
			c.add(c.at(field, "failure_limit"), "must be -1 (no limit), 0 (the default) or positive, not %d", n)
		case n > maxFailureLimit:
			c.add(c.at(field, "failure_limit"), "must be at most %d (%d)", maxFailureLimit, n)
		default:
			p.spec.FailureLimit = n
		}
	}

	// Checks of the effective values that no single block could make.
	own := func(src *fieldPath) bool { return within(src, field) }
	origin := func(src *fieldPath, what string) string {
		if src == nil {
			return fmt.Sprintf("the %s role's %s", roleName, what)
		}
		return src.String()
	}
	// Both from the same block (or preset) is that block's problem,
	// reported once where the block is checked.
	if maxB.v < initial.v && parentOf(initial.src) != parentOf(maxB.src) &&
		!c.skip(c.at(c.at(field, "backoff"), "initial"), c.at(c.at(field, "backoff"), "max"), initial.src, maxB.src) {
		switch {
		case own(maxB.src):
			c.add(maxB.src, "must be >= %s (%s)", origin(initial.src, "backoff.initial"), initial.v)
		case own(initial.src):
			c.add(initial.src, "must be <= %s (%s)", origin(maxB.src, "backoff.max"), maxB.v)
		default:
			c.add(c.at(field, "backoff"), "the inherited initial %s (%s) exceeds the inherited max %s (%s); set backoff.max or backoff.initial",
				initial.v, origin(initial.src, "backoff.initial"), maxB.v, origin(maxB.src, "backoff.max"))
		}
	}
	if ch.StartTimeout != nil && !ch.Readiness && !nested {
		c.add(c.at(field, "start_timeout"), "requires readiness: true")
	}
	if nested {
		if ch.Readiness {
			c.add(c.at(field, "readiness"), "a nested supervisor always declares readiness (it is ready once its own start has completed): leave it out")
		}
		if ch.StaleAfter != nil && *ch.StaleAfter > 0 {
			c.add(c.at(field, "stale_after"), "a nested supervisor sends no heartbeats")
		}
		if ch.StopTimeout == nil {
			// A supervisor's stop is bounded by its own children's stop
			// timeouts, as OTP gives supervisors infinity: the defaults
			// and role presets of children do not apply to it.
			p.spec.StopTimeout = 0
		}
		if ch.StartTimeout == nil {
			p.spec.StartTimeout = 0
		}
	}
	if ch.Significant {
		if restart.v == sdk.Permanent && !c.skip(c.at(field, "restart"), c.at(field, "role")) {
			why := ""
			switch {
			case own(restart.src):
			case restart.src != nil:
				why = fmt.Sprintf(" (permanent comes from %s; set restart to transient or temporary)", restart.src)
			default:
				why = fmt.Sprintf(" (the %s role's restart is permanent; set restart to transient or temporary)", roleName)
			}
			c.add(c.at(field, "significant"), "a permanent child cannot be significant: it never ends on its own%s", why)
		}
		if auto == sdk.AutoShutdownNever && !c.skip(c.at(supField, "auto_shutdown")) {
			c.add(c.at(field, "significant"), "requires %s to be any_significant or all_significant", c.at(supField, "auto_shutdown"))
		}
	}
	if nested {
		p.sup = c.supervisor(ch.Supervisor, c.at(field, "supervisor"), ch.Name, up)
	}
	return p
}

// dependencies checks the children's depends_on lists, and reports each
// dependency cycle once, at its first child. The cost is linear in the
// children and their dependencies.
func (c *checker) dependencies(cfg *Config, field *fieldPath, names map[string]int) {
	children := c.at(field, "children")
	var sibs []string // the children's names, for hints: made at the first unknown dependency
	edges := make([][]int, len(cfg.Children))
	for i, ch := range cfg.Children {
		if len(ch.DependsOn) == 0 {
			continue
		}
		f := c.at(c.elem(children, i), "depends_on")
		var listed map[string]bool
		if len(ch.DependsOn) > 1 {
			listed = make(map[string]bool, len(ch.DependsOn))
		}
		for k, dep := range ch.DependsOn {
			df := c.elem(f, k)
			j, known := names[dep]
			switch {
			case dep == "":
				c.add(df, "must not be empty")
			case dep == ch.Name:
				c.add(df, "a child cannot depend on itself")
			case listed[dep]:
				c.add(df, "%s is listed twice", quote(dep))
			case !known:
				if sibs == nil {
					sibs = make([]string, 0, len(cfg.Children))
					for _, s := range cfg.Children {
						if s.Name != "" {
							sibs = append(sibs, s.Name)
						}
					}
				}
				c.add(df, "%s is not a sibling%s", quote(dep), c.hint(dep, sibs, ch.Name, "siblings"))
			default:
				edges[i] = append(edges[i], j)
			}
			if listed != nil {
				listed[dep] = true
			}
		}
	}
	for _, cycle := range cycles(edges) {
		ns := make([]string, len(cycle))
		for k, i := range cycle {
			ns[k] = cfg.Children[i].Name
		}
		c.add(c.at(c.elem(children, cycle[0]), "depends_on"), "dependency cycle: %s", cycleText(ns))
	}
}

// maxCycleNames is the most names a dependency cycle is shown with.
const maxCycleNames = 8

// cycleText shows a cycle, a → b → c → a, with its names cut and, when it
// is long, only its start.
func cycleText(ns []string) string {
	shown := make([]string, 0, maxCycleNames+2)
	for _, n := range ns[:min(len(ns)-1, maxCycleNames)] {
		shown = append(shown, clip(n))
	}
	if len(ns)-1 > maxCycleNames {
		shown = append(shown, "…")
	}
	shown = append(shown, clip(ns[len(ns)-1]))
	text := strings.Join(shown, " → ")
	if len(ns)-1 > maxCycleNames {
		text += fmt.Sprintf(" (%d children)", len(ns)-1)
	}
	return text
}

// cycles returns one cycle through each strongly connected component of
// more than one node, as a path that starts and ends at the component's
// first node, the shortest one following the edges in order.
func cycles(edges [][]int) [][]int {
	// Tarjan's algorithm.
	n := len(edges)
	idx, low, comp := make([]int, n), make([]int, n), make([]int, n)
	for i := range idx {
		idx[i], comp[i] = -1, -1
	}
	var stack []int
	onStack := make([]bool, n)
	next, ncomp := 0, 0
	var visit func(v int)
	visit = func(v int) {
		idx[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range edges[v] {
			if idx[w] < 0 {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], idx[w])
			}
		}
		if low[v] == idx[v] {
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp[w] = ncomp
				if w == v {
					break
				}
			}
			ncomp++
		}
	}
	for v := range n {
		if idx[v] < 0 {
			visit(v)
		}
	}
	size := make([]int, ncomp)
	for _, k := range comp {
		size[k]++
	}
	var out [][]int
	done := make([]bool, ncomp)
	for start := range n { // declaration order: each cycle at its first child
		k := comp[start]
		if size[k] < 2 || done[k] {
			continue
		}
		done[k] = true
		// Breadth-first search within the component, back to start.
		prev := make(map[int]int)
		queue := []int{start}
	search:
		for len(queue) > 0 {
			v := queue[0]
			queue = queue[1:]
			for _, w := range edges[v] {
				if comp[w] != k {
					continue
				}
				if w == start {
					path := []int{start}
					for u := v; u != start; u = prev[u] {
						path = append(path, u)
					}
					path = append(path, start)
					slices.Reverse(path[1 : len(path)-1])
					out = append(out, path)
					break search
				}
				if _, seen := prev[w]; !seen {
					prev[w] = v
					queue = append(queue, w)
				}
			}
		}
	}
	return out
}
