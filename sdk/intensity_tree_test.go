package sdk_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// stateMetrics returns state metrics on a private meter provider and a
// function that reads the current state of every child, by path, as the
// state-set metric reports it.
func stateMetrics(t *testing.T) (*lifecycle.StateMetrics, func() map[string]string) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	sm, err := lifecycle.NewStateMetrics(lifecycle.WithMeterProvider(mp))
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, sm.Close())
		require.NoError(t, mp.Shutdown(context.Background()))
	})
	return sm, func() map[string]string {
		var rm metricdata.ResourceMetrics
		require.NoError(t, reader.Collect(context.Background(), &rm))
		out := map[string]string{}
		for _, scope := range rm.ScopeMetrics {
			for _, m := range scope.Metrics {
				if m.Name != lifecycle.MetricChildStatus {
					continue
				}
				for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
					if dp.Value == 0 {
						continue
					}
					path, _ := dp.Attributes.Value(lifecycle.AttrChildPath)
					state, _ := dp.Attributes.Value(lifecycle.AttrChildState)
					require.NotContains(t, out, path.AsString(), "two states at once")
					out[path.AsString()] = state.AsString()
				}
			}
		}
		return out
	}
}

func TestMeltdown(t *testing.T) {
	run := func(t *testing.T, check func(t *testing.T, rec *recorder, states func() map[string]string)) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			log := newAttempts()
			sm, states := stateMetrics(t)
			intensity := sdk.Intensity{MaxRestarts: 3, Period: 10 * time.Second}
			s := newSup(t, "r", sdk.WithEventHook(rec.hook), sdk.WithIntensity(intensity), sdk.WithStateMetrics(sm))
			add(t, s, member(log, "a"), member(log, "b", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), member(log, "c"))
			sv := serve(t, s)
			synctest.Wait()

			ok, err := sv.returned()
			require.True(t, ok, "the supervisor gave up on its own")
			require.ErrorIs(t, err, sdk.ErrMeltdown)
			var me *sdk.MeltdownError
			require.ErrorAs(t, err, &me)
			require.Equal(t, "/r", me.Path)
			require.Equal(t, intensity, me.Intensity)
			require.Equal(t, 4, me.Restarts)
			require.Contains(t, err.Error(), "meltdown")

			require.Equal(t, 4, log.of("b"), "3 restarts tolerated, the 4th failure melts down")
			require.Equal(t, 3, rec.count("/r/b", sdk.EventChildRestarting))
			require.Equal(t, 1, rec.count("", sdk.EventMeltdown))
			md := rec.last(t, "/r", sdk.EventMeltdown)
			require.Contains(t, md.Cause, "/r/b")
			require.ErrorIs(t, md.Err, errBoom)

			// Children stop in reverse declaration order.
			var cancelled []string
			for _, l := range log.lines() {
				if strings.HasPrefix(l, "cancelled") {
					cancelled = append(cancelled, l)
				}
			}
			require.Equal(t, []string{"cancelled c#1", "cancelled a#1"}, cancelled)
			var stopping []string
			for _, e := range rec.filter("", sdk.EventChildStopping) {
				stopping = append(stopping, e.Path)
			}
			require.Equal(t, []string{"/r/c", "/r/a"}, stopping)

			h := s.Health()
			require.Equal(t, lifecycle.StateFailed, h.State)
			require.False(t, h.Alive)
			require.NotNil(t, h.Exit)
			require.Contains(t, h.Exit.Reason, "meltdown")
			require.NotNil(t, h.Failure)
			require.Equal(t, "/r", h.Shutdown.RequestedBy, "the supervisor decided")

			check(t, rec, states)
		})
	}

	t.Run("siblings end stopped", func(t *testing.T) {
		run(t, func(t *testing.T, rec *recorder, states func() map[string]string) {
			ended := rec.ended()
			require.Equal(t, lifecycle.StateStopped, ended["/r/a"])
			require.Equal(t, lifecycle.StateStopped, ended["/r/c"])
			st := states()
			require.Equal(t, "stopped", st["/r/a"])
			require.Equal(t, "stopped", st["/r/c"])
		})
	})

	t.Run("the failing child's lifecycle ends", func(t *testing.T) {
		run(t, func(t *testing.T, rec *recorder, states func() map[string]string) {
			ended := rec.filter("/r/b", sdk.EventChildEnded)
			require.Len(t, ended, 1)
			require.Equal(t, lifecycle.StateFailed, ended[0].To)
			require.Equal(t, "failed", states()["/r/b"])
		})
	})
}

// A child that fails slower than the intensity allows never melts down: the
// window slides.
func TestIntensityWindowSlides(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook), sdk.WithIntensity(sdk.Intensity{MaxRestarts: 3, Period: 10 * time.Second}))
		var calls atomic.Int64
		add(t, s, sdk.Spec{Name: "c", FailureLimit: -1, Backoff: &sdk.Backoff{Initial: 3400 * time.Millisecond, Max: 3400 * time.Millisecond, Multiplier: 1},
			Service: sdk.ServiceFunc(func(context.Context) error { calls.Add(1); return errBoom })})
		sv := serve(t, s)
		time.Sleep(time.Minute)
		ok, _ := sv.returned()
		require.False(t, ok, "4 failures never fall within 10s")
		require.Greater(t, calls.Load(), int64(15))
		require.NoError(t, sv.stop())
	})
}

// tree builds /root/sub/worker with the given intensities. The worker fails
// while fail returns true. The root also runs an idle sibling "other", the
// sub an idle sibling "peer".
func tree(t *testing.T, rootOpts, subOpts []sdk.Option, worker sdk.Service) (root, sub *sdk.Supervisor) {
	t.Helper()
	root = newSup(t, "root", rootOpts...)
	sub = newSup(t, "sub", subOpts...)
	add(t, sub,
		sdk.Spec{Name: "peer", Service: idleService},
		sdk.Spec{Name: "worker", Backoff: sdk.NoBackoff(), Service: worker})
	add(t, root,
		sdk.Spec{Name: "other", Service: idleService},
		sdk.Spec{Name: "sub", Backoff: sdk.NoBackoff(), Service: sub})
	return root, sub
}

func TestNestedMeltdownIsOneFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec, subRec := newRecorder(), newRecorder()
		var calls atomic.Int64
		root, sub := tree(t,
			[]sdk.Option{sdk.WithEventHook(rec.hook), sdk.WithIntensity(sdk.Intensity{MaxRestarts: 1, Period: time.Hour})},
			[]sdk.Option{sdk.WithEventHook(subRec.hook), sdk.WithIntensity(sdk.Intensity{MaxRestarts: 2, Period: time.Hour})},
			failing(3, errBoom, &calls))
		require.Equal(t, "/root/sub", sub.Path(), "the path follows the tree as soon as the child is declared")
		sv := serve(t, root)
		synctest.Wait()

		require.Equal(t, "/root/sub", sub.Path())
		require.Equal(t, int64(4), calls.Load(), "3 failures melt the sub down; its restart runs the worker again")
		ex := rec.filter("/root/sub", sdk.EventChildExited)
		require.Len(t, ex, 1)
		require.Equal(t, sdk.ExitError, ex[0].Exit)
		require.ErrorIs(t, ex[0].Err, sdk.ErrMeltdown)
		require.Equal(t, 1, rec.count("/root/sub", sdk.EventChildRestarting), "one failure, one restart at the root")
		require.Zero(t, rec.count("/root/other", sdk.EventChildStopping), "one_for_one at the root")
		require.Equal(t, 1, rec.count("/root/sub", sdk.EventMeltdown))
		require.Zero(t, rec.count("/root", sdk.EventMeltdown))
		require.True(t, root.Health().Alive)
		require.True(t, sub.Health().Alive, "the sub runs again")

		// Events of the nested worker carry its full path and reach the
		// root's hook; the sub's hook sees them too, but not the root's own.
		w := rec.filter("/root/sub/worker", sdk.EventChildExited)
		require.Len(t, w, 3)
		for _, e := range w {
			require.Equal(t, "/root/sub", e.Supervisor)
		}
		require.Equal(t, rec.strings("/root/sub/worker"), subRec.strings("/root/sub/worker"))
		require.Zero(t, len(subRec.filter("/root/other")))
		for _, e := range rec.filter("/root/other") {
			require.Equal(t, "/root", e.Supervisor)
		}

		require.NoError(t, sv.stop())
		require.Equal(t, lifecycle.StateCompleted, sub.Health().State)
	})
}

func TestEscalation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		var calls atomic.Int64
		one := sdk.WithIntensity(sdk.Intensity{MaxRestarts: 1, Period: time.Hour})
		root, _ := tree(t, []sdk.Option{sdk.WithEventHook(rec.hook), one}, []sdk.Option{one}, failing(1000, errBoom, &calls))
		sv := serve(t, root)
		synctest.Wait()

		ok, err := sv.returned()
		require.True(t, ok, "the root melted down too")
		require.ErrorIs(t, err, sdk.ErrMeltdown)
		var me *sdk.MeltdownError
		require.ErrorAs(t, err, &me)
		require.Equal(t, "/root", me.Path)
		require.Equal(t, int64(4), calls.Load(), "two sub runs of two failures each")

		var meltdowns []string
		for _, e := range rec.filter("", sdk.EventMeltdown) {
			meltdowns = append(meltdowns, e.Supervisor+": "+e.Cause)
		}
		require.Equal(t, []string{
			"/root/sub: /root/sub/worker exceeded the restart intensity",
			"/root/sub: /root/sub/worker exceeded the restart intensity",
			"/root: /root/sub exceeded the restart intensity",
		}, meltdowns)
		require.Equal(t, lifecycle.StateFailed, root.Health().State)
		require.Equal(t, lifecycle.StateStopped, rec.ended()["/root/other"])
	})
}

func TestFatalStopsTheTree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		root, sub := tree(t, []sdk.Option{sdk.WithEventHook(rec.hook)}, nil,
			sdk.ServiceFunc(func(ctx context.Context) error {
				time.Sleep(time.Second)
				return fmt.Errorf("disk gone: %w", sdk.ErrFatal)
			}))
		sv := serve(t, root)
		synctest.Wait()
		ok, _ := sv.returned()
		require.False(t, ok)
		time.Sleep(time.Second)
		synctest.Wait()

		ok, err := sv.returned()
		require.True(t, ok, "a fatal error deep in the tree stops the root")
		require.ErrorIs(t, err, sdk.ErrFatal)
		var fe *sdk.FatalError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, "/root/sub", fe.Child)
		var inner *sdk.FatalError
		require.ErrorAs(t, fe.Err, &inner)
		require.Equal(t, "/root/sub/worker", inner.Child)
		require.ErrorContains(t, err, "disk gone")

		require.Equal(t, lifecycle.StateFailed, root.Health().State)
		require.Equal(t, lifecycle.StateFailed, sub.Health().State)
		require.Zero(t, rec.count("", sdk.EventChildRestarting), "nothing restarts on a fatal error")
		ended := rec.ended()
		require.Equal(t, lifecycle.StateStopped, ended["/root/other"])
		require.Equal(t, lifecycle.StateStopped, ended["/root/sub/peer"])
		require.Equal(t, lifecycle.StateFailed, ended["/root/sub/worker"])
		require.Equal(t, lifecycle.StateFailed, ended["/root/sub"])
	})
}

func TestSignificantChildren(t *testing.T) {
	job := func(after time.Duration) sdk.Spec {
		return sdk.Spec{Restart: sdk.Transient, Significant: true, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			select {
			case <-time.After(after):
				return nil
			case <-ctx.Done():
				return nil
			}
		})}
	}
	named := func(s sdk.Spec, name string) sdk.Spec { s.Name = name; return s }

	t.Run("any significant", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook), sdk.WithAutoShutdown(sdk.AnySignificant))
			add(t, s, sdk.Spec{Name: "svc", Service: idleService}, named(job(time.Second), "j1"), named(job(time.Hour), "j2"))
			start := time.Now()
			sv := serve(t, s)
			err := sv.wait()
			require.NoError(t, err)
			require.Equal(t, time.Second, time.Since(start), "the first significant child to end ends the supervisor")
			require.Equal(t, lifecycle.StateCompleted, s.Health().State)
			ended := rec.ended()
			require.Equal(t, lifecycle.StateCompleted, ended["/r/j1"])
			require.Equal(t, lifecycle.StateStopped, ended["/r/j2"])
			require.Equal(t, lifecycle.StateStopped, ended["/r/svc"])
			require.Equal(t, "/r/j1", s.Health().Shutdown.RequestedBy)
		})
	})

	t.Run("all significant", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook), sdk.WithAutoShutdown(sdk.AllSignificant))
			add(t, s, sdk.Spec{Name: "svc", Service: idleService}, named(job(time.Second), "j1"), named(job(2*time.Second), "j2"))
			start := time.Now()
			sv := serve(t, s)
			time.Sleep(1500 * time.Millisecond)
			synctest.Wait()
			ok, _ := sv.returned()
			require.False(t, ok, "one significant child is still running")
			require.Equal(t, lifecycle.StateCompleted, rec.ended()["/r/j1"])
			err := sv.wait()
			require.NoError(t, err)
			require.Equal(t, 2*time.Second, time.Since(start))
			ended := rec.ended()
			require.Equal(t, lifecycle.StateCompleted, ended["/r/j2"])
			require.Equal(t, lifecycle.StateStopped, ended["/r/svc"])
		})
	})

	t.Run("a failing significant transient child is restarted", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newSup(t, "r", sdk.WithAutoShutdown(sdk.AnySignificant))
			var calls atomic.Int64
			add(t, s, sdk.Spec{Name: "j", Restart: sdk.Transient, Significant: true, Backoff: sdk.NoBackoff(),
				Service: sdk.ServiceFunc(func(ctx context.Context) error {
					if calls.Add(1) < 3 {
						return errBoom
					}
					return nil
				})})
			require.NoError(t, serve(t, s).wait())
			require.Equal(t, int64(3), calls.Load())
		})
	})

	t.Run("a non-significant child ending does not end the supervisor", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook), sdk.WithAutoShutdown(sdk.AnySignificant))
			plain := named(job(time.Second), "plain")
			plain.Significant = false
			add(t, s, named(job(time.Hour), "j"), plain)
			sv := serve(t, s)
			time.Sleep(2 * time.Second)
			synctest.Wait()
			ok, _ := sv.returned()
			require.False(t, ok)
			require.Equal(t, lifecycle.StateCompleted, rec.ended()["/r/plain"])
			require.NoError(t, sv.stop())
		})
	})
}

// Under the defaults, a child that keeps failing escalates in bounded
// time: its supervisor gives up after the child's tenth failure in a row,
// however slowly its backoff lets it loop, and the parent sees one failure
// of the subtree. (With the default intensity and role backoffs, such a
// child used to loop for ever at its maximum backoff.) FailureLimit -1
// keeps the old behaviour.
func TestPersistentFaultEscalates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSup(t, "r")
		add(t, s, sdk.Spec{Name: "db", Role: sdk.RoleService, Service: sdk.ServiceFunc(func(context.Context) error { return errBoom })})
		begin := time.Now()
		err := serve(t, s).wait()
		took := time.Since(begin)
		var me *sdk.MeltdownError
		require.ErrorAs(t, err, &me)
		require.Equal(t, "/r/db", me.Child)
		require.Equal(t, 10, me.Failures)
		require.Contains(t, err.Error(), "child /r/db failed 10 times in a row")
		// The service role's backoff: 100ms doubling to 10s, jittered down
		// to half: at most 0.1+0.2+...+6.4+10+10 = 32.7s, at least half.
		require.LessOrEqual(t, took, 33*time.Second)
		require.GreaterOrEqual(t, took, 16*time.Second)

		patient := newSup(t, "p")
		var calls atomic.Int64
		add(t, patient, sdk.Spec{Name: "db", Role: sdk.RoleService, FailureLimit: -1, Service: failing(1<<30, errBoom, &calls)})
		sv := serve(t, patient)
		time.Sleep(5 * time.Minute)
		ok, _ := sv.returned()
		require.False(t, ok, "no limit: it keeps trying")
		require.Greater(t, calls.Load(), int64(30))
	})
}
