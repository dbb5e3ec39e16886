package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// errPermanent is the fault -fail injects. It stands for a fault that no
// restart can cure (a bad configuration, a revoked credential): the child
// that returns it is not restarted, so it ends in the state failed and
// stays there, which is what the SupervisedChildFailed alert pages on.
var errPermanent = errors.New("permanent fault injected by -fail")

// failable lists the children -fail may name, by path relative to the
// root. Not the api: it serves /metrics, and with it down Prometheus would
// see the target down, not a failed child. Not the pool's workers: they
// share one template spec.
var failable = []string{"jobs/flaky", "jobs/indexer"}

// checkFail validates the -fail flag; "" injects nothing.
func checkFail(name string) error {
	if name == "" || slices.Contains(failable, name) {
		return nil
	}
	return fmt.Errorf("-fail=%s: not a child the demo can fail (choose one of %s)", name, strings.Join(failable, ", "))
}

// injectFailure makes spec, the child at path, fail permanently when path
// is the one -fail names: every attempt returns errPermanent at once, and
// the child becomes temporary, never restarted, so that error ends it
// failed (as a transient or permanent child's would not: they retry, and
// a fault that persists would melt its supervisor down instead).
func injectFailure(spec sdk.Spec, path, fail string) sdk.Spec {
	if path != fail {
		return spec
	}
	spec.Service = sdk.ServiceFunc(func(context.Context) error { return errPermanent })
	spec.Restart = sdk.Temporary
	return spec
}
