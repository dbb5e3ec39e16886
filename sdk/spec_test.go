package sdk_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

var idleService = sdk.ServiceFunc(idle)

// requireSpecError checks that err is an invalid-spec error naming child
// and field.
func requireSpecError(t *testing.T, err error, child, field string) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, sdk.ErrInvalidSpec)
	var se *sdk.SpecError
	require.ErrorAs(t, err, &se)
	require.Equal(t, child, se.Child, "SpecError.Child (%v)", err)
	require.Equal(t, field, se.Field, "SpecError.Field (%v)", err)
	require.NotEmpty(t, se.Problem)
	require.Contains(t, err.Error(), field)
}

func TestInvalidSpecs(t *testing.T) {
	always := func(sdk.Exit) bool { return true }
	for _, tc := range []struct {
		name  string
		opts  []sdk.Option
		spec  sdk.Spec
		child string
		field string
	}{
		{name: "blank name", spec: sdk.Spec{Service: idleService}, child: "", field: "Name"},
		{name: "slash in name", spec: sdk.Spec{Name: "a/b", Service: idleService}, child: "a/b", field: "Name"},
		{name: "space in name", spec: sdk.Spec{Name: "a b", Service: idleService}, child: "a b", field: "Name"},
		{name: "nil service", spec: sdk.Spec{Name: "c"}, child: "c", field: "Service"},
		{name: "unknown role", spec: sdk.Spec{Name: "c", Service: idleService, Role: sdk.Role(9)}, child: "c", field: "Role"},
		{name: "unknown restart type", spec: sdk.Spec{Name: "c", Service: idleService, Restart: sdk.RestartType(9)}, child: "c", field: "Restart"},
		{name: "RestartIf with permanent", spec: sdk.Spec{Name: "c", Service: idleService, Restart: sdk.Permanent, RestartIf: always}, child: "c", field: "RestartIf"},
		{name: "RestartIf with role default", spec: sdk.Spec{Name: "c", Service: idleService, Role: sdk.RoleWorker, RestartIf: always}, child: "c", field: "RestartIf"},
		{name: "custom without RestartIf", spec: sdk.Spec{Name: "c", Service: idleService, Restart: sdk.Custom}, child: "c", field: "RestartIf"},
		{name: "significant permanent", opts: []sdk.Option{sdk.WithAutoShutdown(sdk.AnySignificant)},
			spec: sdk.Spec{Name: "c", Service: idleService, Restart: sdk.Permanent, Significant: true}, child: "c", field: "Significant"},
		{name: "significant default restart is permanent", opts: []sdk.Option{sdk.WithAutoShutdown(sdk.AnySignificant)},
			spec: sdk.Spec{Name: "c", Service: idleService, Significant: true}, child: "c", field: "Significant"},
		{name: "significant without auto shutdown", spec: sdk.Spec{Name: "c", Service: idleService, Restart: sdk.Transient, Significant: true}, child: "c", field: "Significant"},
		{name: "negative stop timeout", spec: sdk.Spec{Name: "c", Service: idleService, StopTimeout: -time.Second}, child: "c", field: "StopTimeout"},
		{name: "backoff max below initial", spec: sdk.Spec{Name: "c", Service: idleService,
			Backoff: &sdk.Backoff{Initial: time.Second, Max: time.Millisecond, Multiplier: 2}}, child: "c", field: "Backoff.Max"},
		{name: "backoff negative initial", spec: sdk.Spec{Name: "c", Service: idleService,
			Backoff: &sdk.Backoff{Initial: -1, Max: time.Second, Multiplier: 2}}, child: "c", field: "Backoff.Initial"},
		{name: "backoff zero multiplier", spec: sdk.Spec{Name: "c", Service: idleService,
			Backoff: &sdk.Backoff{}}, child: "c", field: "Backoff.Multiplier"},
		{name: "backoff unknown jitter", spec: sdk.Spec{Name: "c", Service: idleService,
			Backoff: &sdk.Backoff{Multiplier: 1, Jitter: sdk.Jitter(9)}}, child: "c", field: "Backoff.Jitter"},
		{name: "backoff negative reset", spec: sdk.Spec{Name: "c", Service: idleService,
			Backoff: &sdk.Backoff{Multiplier: 1, ResetAfter: -time.Second}}, child: "c", field: "Backoff.ResetAfter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSup(t, "r", tc.opts...)
			requireSpecError(t, s.Add(context.Background(), tc.spec, "test", "declared by the test"), tc.child, tc.field)
		})
	}
}

func TestInvalidSpecNotDeclared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		var ran atomic.Bool
		bad := sdk.Spec{Name: "c", StopTimeout: -1, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			ran.Store(true)
			<-ctx.Done()
			return nil
		})}
		requireSpecError(t, s.Add(context.Background(), bad, "test", "declared by the test"), "c", "StopTimeout")
		sv := serve(t, s)
		synctest.Wait()
		require.False(t, ran.Load(), "a rejected spec must not start")
		require.Zero(t, rec.count("", sdk.EventChildAdded))

		// Rejected while serving too, and the name stays free.
		requireSpecError(t, s.Add(context.Background(), bad, "test", "declared by the test"), "c", "StopTimeout")
		synctest.Wait()
		require.False(t, ran.Load())
		bad.StopTimeout = 0
		require.NoError(t, s.Add(context.Background(), bad, "test", "declared by the test"))
		synctest.Wait()
		require.True(t, ran.Load())
		require.NoError(t, sv.stop())
	})
}

func TestDuplicateName(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSup(t, "r")
		add(t, s, sdk.Spec{Name: "c", Service: idleService})
		requireSpecError(t, s.Add(context.Background(), sdk.Spec{Name: "c", Service: idleService}, "test", "declared by the test"), "c", "Name")

		sv := serve(t, s)
		synctest.Wait()
		requireSpecError(t, s.Add(context.Background(), sdk.Spec{Name: "c", Service: idleService}, "test", "declared by the test"), "c", "Name")
		require.NoError(t, s.Add(context.Background(), sdk.Spec{Name: "d", Service: idleService}, "test", "declared by the test"))
		requireSpecError(t, s.Add(context.Background(), sdk.Spec{Name: "d", Service: idleService}, "test", "declared by the test"), "d", "Name")
		require.NoError(t, sv.stop())
	})
}

func TestSupervisorCannotSuperviseItself(t *testing.T) {
	s := newSup(t, "r")
	requireSpecError(t, s.Add(context.Background(), sdk.Spec{Name: "me", Service: s}, "test", "declared by the test"), "me", "Service")
}

func TestInvalidOptions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sup   string
		opts  []sdk.Option
		field string
	}{
		{name: "strategy out of range", sup: "r", opts: []sdk.Option{sdk.WithStrategy(sdk.Strategy(9))}, field: "Strategy"},
		{name: "zero strategy", sup: "r", opts: []sdk.Option{sdk.WithStrategy(0)}, field: "Strategy"},
		{name: "negative intensity", sup: "r", opts: []sdk.Option{sdk.WithIntensity(sdk.Intensity{MaxRestarts: -1, Period: time.Second})}, field: "Intensity.MaxRestarts"},
		{name: "intensity too large", sup: "r", opts: []sdk.Option{sdk.WithIntensity(sdk.Intensity{MaxRestarts: 10001, Period: time.Second})}, field: "Intensity.MaxRestarts"},
		{name: "zero period", sup: "r", opts: []sdk.Option{sdk.WithIntensity(sdk.Intensity{MaxRestarts: 1})}, field: "Intensity.Period"},
		{name: "auto shutdown out of range", sup: "r", opts: []sdk.Option{sdk.WithAutoShutdown(sdk.AutoShutdown(7))}, field: "AutoShutdown"},
		{name: "nil rand", sup: "r", opts: []sdk.Option{sdk.WithRand(nil)}, field: "Rand"},
		{name: "bad supervisor name", sup: "a/b", field: "name"},
		{name: "blank supervisor name", sup: "", field: "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sdk.New(tc.sup, tc.opts...)
			require.Nil(t, s)
			requireSpecError(t, err, "", tc.field)
		})
	}
}

func TestValidOptions(t *testing.T) {
	for _, st := range []sdk.Strategy{sdk.OneForOne, sdk.OneForAll, sdk.RestForOne} {
		_, err := sdk.New("r", sdk.WithStrategy(st))
		require.NoError(t, err, st.String())
	}
	_, err := sdk.New("r.x_y-1", sdk.WithIntensity(sdk.Intensity{MaxRestarts: 0, Period: time.Nanosecond}))
	require.NoError(t, err)
}

func TestRolePresets(t *testing.T) {
	t.Run("worker is transient", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook))
			var calls atomic.Int64
			add(t, s, sdk.Spec{Name: "w", Role: sdk.RoleWorker,
				Service: sdk.ServiceFunc(func(context.Context) error { calls.Add(1); return nil })})
			sv := serve(t, s)
			time.Sleep(time.Minute) // far beyond any worker backoff
			require.Equal(t, int64(1), calls.Load(), "a worker that returned cleanly is done")
			require.Equal(t, lifecycle.StateCompleted, rec.last(t, "/r/w", sdk.EventChildEnded).To)
			require.NoError(t, sv.stop())
		})
	})

	t.Run("worker is restarted after a failure with its backoff", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook))
			var calls atomic.Int64
			add(t, s, sdk.Spec{Name: "w", Role: sdk.RoleWorker, Service: failing(1, errBoom, &calls)})
			sv := serve(t, s)
			time.Sleep(time.Minute)
			require.Equal(t, int64(2), calls.Load())
			b := rec.last(t, "/r/w", sdk.EventChildBackoff)
			// Worker backoff: 50ms initial with equal jitter: [25ms, 50ms].
			require.GreaterOrEqual(t, b.Delay, 25*time.Millisecond)
			require.LessOrEqual(t, b.Delay, 50*time.Millisecond)
			require.NoError(t, sv.stop())
		})
	})

	t.Run("explicit restart overrides the role", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook))
			var calls atomic.Int64
			add(t, s, sdk.Spec{Name: "w", Role: sdk.RoleWorker, Restart: sdk.Permanent, Backoff: sdk.NoBackoff(),
				Service: sdk.ServiceFunc(func(ctx context.Context) error {
					if calls.Add(1) == 1 {
						return nil
					}
					<-ctx.Done()
					return nil
				})})
			sv := serve(t, s)
			synctest.Wait()
			require.Equal(t, int64(2), calls.Load(), "permanent: restarted after a clean exit")
			require.NoError(t, sv.stop())
			require.Equal(t, lifecycle.StateStopped, rec.last(t, "/r/w", sdk.EventChildEnded).To)
		})
	})

	t.Run("role stop timeout, explicit stop timeout wins", func(t *testing.T) {
		for _, tc := range []struct {
			spec sdk.Spec
			want time.Duration
		}{
			{sdk.Spec{Role: sdk.RoleSidecar}, 2 * time.Second},
			{sdk.Spec{Role: sdk.RoleService}, 10 * time.Second},
			{sdk.Spec{}, 5 * time.Second},
			{sdk.Spec{Role: sdk.RoleSidecar, StopTimeout: 300 * time.Millisecond}, 300 * time.Millisecond},
		} {
			t.Run(tc.spec.Role.String(), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					rec := newRecorder()
					s := newSup(t, "r", sdk.WithEventHook(rec.hook))
					st := newStubborn(t)
					defer st.release()
					spec := tc.spec
					spec.Name, spec.Service = "c", st
					add(t, s, spec)
					sv := serve(t, s)
					synctest.Wait()
					err := sv.stop()
					require.ErrorIs(t, err, sdk.ErrAbandoned)
					require.Equal(t, tc.want, rec.last(t, "/r/c", sdk.EventChildAbandoned).Waited)
				})
			})
		}
	})
}

func TestSpecErrorMessages(t *testing.T) {
	err := (&sdk.SpecError{Child: "c", Field: "Backoff.Max", Problem: "is bad"}).Error()
	require.Equal(t, `sdk: child "c": Backoff.Max: is bad`, err)
	err = (&sdk.SpecError{Field: "Strategy", Problem: "is bad"}).Error()
	require.Equal(t, `sdk: supervisor spec: Strategy: is bad`, err)
	require.False(t, errors.Is(errors.New("x"), sdk.ErrInvalidSpec))
}

// A supervisor cannot be its own ancestor: the tree would be a cycle.
func TestSupervisorCycleRejected(t *testing.T) {
	root := newSup(t, "root")
	sub := newSup(t, "sub")
	add(t, root, sdk.Spec{Name: "sub", Service: sub})
	requireSpecError(t, sub.Add(context.Background(), sdk.Spec{Name: "loop", Service: root}, "test", "declared by the test"), "loop", "Service")
}
