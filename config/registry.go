package config

import (
	"fmt"
	"regexp"
	"slices"
	"sync"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// FactoryContext tells a factory which child it makes a service for.
type FactoryContext struct {
	// Task is the registry key the child names.
	Task string
	// Name is the child's name; Path its path in the tree, such as
	// "/root/jobs/flaky", as events and reports show it.
	Name, Path string
	// Field is the path of the child in the configuration, such as
	// "children[1].supervisor.children[0]".
	Field string
	// Spec is the child's effective spec, Service aside: for instance,
	// Spec.Readiness says whether the service must call sdk.Ready, and
	// Spec.StaleAfter whether it must call sdk.Heartbeat.
	Spec sdk.Spec
}

// Factory makes the service of one child. It is called once per child that
// names its key, by Build, after the whole configuration has been
// validated. It must not start anything: the supervisor calls Serve.
type Factory func(FactoryContext) (sdk.Service, error)

// Registry maps task keys to factories. The zero value is an empty
// registry, ready to use; it is safe for concurrent use.
type Registry struct {
	mu        sync.RWMutex
	factories map[string]Factory
}

var keyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// Register adds a factory under key, which starts with a letter or '_' and
// continues with letters, digits, '_', '-' and '.'. A key registered twice,
// an invalid key and a nil factory are errors.
func (r *Registry) Register(key string, f Factory) error {
	if !keyPattern.MatchString(key) {
		return fmt.Errorf("config: invalid task key %q: want a letter or '_', then letters, digits, '_', '-' or '.'", key)
	}
	if f == nil {
		return fmt.Errorf("config: task %q: nil factory", key)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.factories[key]; dup {
		return fmt.Errorf("config: task %q is already registered", key)
	}
	if r.factories == nil {
		r.factories = make(map[string]Factory)
	}
	r.factories[key] = f
	return nil
}

// Keys returns the registered task keys, sorted.
func (r *Registry) Keys() []string {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	keys := make([]string, 0, len(r.factories))
	for k := range r.factories {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (r *Registry) lookup(key string) (Factory, bool) {
	if r == nil {
		return nil, false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	f, ok := r.factories[key]
	return f, ok
}
