package otelsup

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// drops reports supervisor.events.dropped: the events observers missed.
// The counter is observable, read at collection: the hooks' count comes
// from the events themselves ([sdk.Event.Dropped], a tree's running count
// of events not queued for its hooks), a subscription's from
// [sdk.Subscription.Dropped]. Only what the sdk counts is reported; the
// adapter keeps, per tree, the count it saw last, and per root path the
// sum over that root's trees, which only grows.
type drops struct {
	inst metric.Int64ObservableCounter
	reg  metric.Registration

	mu    sync.Mutex
	last  map[uint64]uint64     // by tree (Event.Tree): the count last seen
	roots map[string]*dropCount // by root path: the hooks' drops of its trees
	subs  map[*sdk.Subscription]*dropCount
}

type dropCount struct {
	n    uint64
	sub  *sdk.Subscription // nil for the hooks
	opts []metric.ObserveOption
}

func newDrops(meter metric.Meter, inst metric.Int64ObservableCounter) (*drops, error) {
	d := &drops{
		inst:  inst,
		last:  make(map[uint64]uint64),
		roots: make(map[string]*dropCount),
		subs:  make(map[*sdk.Subscription]*dropCount),
	}
	if inst == nil {
		return d, nil
	}
	var err error
	d.reg, err = meter.RegisterCallback(d.observe, inst)
	return d, err
}

func dropOpts(path, observer string) []metric.ObserveOption {
	return []metric.ObserveOption{metric.WithAttributeSet(attribute.NewSet(
		lifecycle.AttrSupervisorPath.String(path), AttrObserver.String(observer)))}
}

// see adds the growth of the tree's hook drop count since the last event
// the adapter saw; a root's series exists, at 0, from its first event. The
// tree's entry goes with the root's final event.
func (d *drops) see(e sdk.Event) {
	if e.Tree == 0 {
		return // not from the sdk
	}
	root := rootOf(e.Supervisor)
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.roots[root]
	if c == nil {
		c = &dropCount{opts: dropOpts(root, "hook")}
		d.roots[root] = c
	}
	if last := d.last[e.Tree]; e.Dropped > last {
		c.n += e.Dropped - last
	}
	if e.Type == sdk.EventSupervisorState && e.Report != nil && e.Path == root {
		delete(d.last, e.Tree)
		return
	}
	d.last[e.Tree] = max(d.last[e.Tree], e.Dropped)
}

// rootOf is the root's path of a path: /root of /root/api/http.
func rootOf(path string) string {
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			return path[:i]
		}
	}
	return path
}

func (d *drops) observe(_ context.Context, o metric.Observer) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.roots {
		o.ObserveInt64(d.inst, int64(c.n), c.opts...)
	}
	for _, c := range d.subs {
		o.ObserveInt64(d.inst, int64(c.sub.Dropped()), c.opts...)
	}
	return nil
}

func (d *drops) close() error {
	if d.reg == nil {
		return nil
	}
	err := d.reg.Unregister()
	d.reg = nil
	return err
}

// ObserveSubscription reports the events sub dropped (a full buffer, see
// [sdk.Subscription.Dropped]) as supervisor.events.dropped, with
// supervisor.path = path (the supervisor subscribed to) and
// supervisor.observer = name, until stop is called or the adapter is
// closed. name should be a fixed word for what reads the subscription
// (audit, ui): it is a metric attribute.
func (a *Adapter) ObserveSubscription(path, name string, sub *sdk.Subscription) (stop func()) {
	d := a.drops
	d.mu.Lock()
	d.subs[sub] = &dropCount{sub: sub, opts: dropOpts(path, name)}
	d.mu.Unlock()
	return func() {
		d.mu.Lock()
		delete(d.subs, sub)
		d.mu.Unlock()
	}
}
