package sdk

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestIntensityValidate(t *testing.T) {
	for name, i := range map[string]Intensity{
		"default":          DefaultIntensity(),
		"OTP default":      {MaxRestarts: 1, Period: 5 * time.Second},
		"no restarts":      {MaxRestarts: 0, Period: time.Second},
		"largest":          {MaxRestarts: 10000, Period: time.Hour},
		"tiny period":      {MaxRestarts: 3, Period: time.Nanosecond},
		"longest duration": {MaxRestarts: 3, Period: math.MaxInt64},
	} {
		require.NoError(t, i.Validate(), name)
	}

	for _, tc := range []struct {
		name  string
		i     Intensity
		field string
	}{
		{"negative restarts", Intensity{MaxRestarts: -1, Period: time.Second}, "Intensity.MaxRestarts"},
		{"most negative restarts", Intensity{MaxRestarts: math.MinInt, Period: time.Second}, "Intensity.MaxRestarts"},
		{"too many restarts", Intensity{MaxRestarts: 10001, Period: time.Second}, "Intensity.MaxRestarts"},
		{"huge restarts", Intensity{MaxRestarts: math.MaxInt, Period: time.Second}, "Intensity.MaxRestarts"},
		{"zero period", Intensity{MaxRestarts: 3}, "Intensity.Period"},
		{"negative period", Intensity{MaxRestarts: 3, Period: -time.Second}, "Intensity.Period"},
		{"zero value", Intensity{}, "Intensity.Period"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.i.Validate()
			require.ErrorIs(t, err, ErrInvalidSpec)
			var se *SpecError
			require.True(t, errors.As(err, &se))
			require.Equal(t, tc.field, se.Field)
			require.Empty(t, se.Child)
			require.NotEmpty(t, se.Problem)
		})
	}
}

func TestDefaultIntensity(t *testing.T) {
	require.Equal(t, Intensity{MaxRestarts: 10, Period: 10 * time.Second}, DefaultIntensity())
}

// intensityTestAt returns a time offset from a fixed origin. The origin has no
// monotonic reading, as with an injected clock.
func intensityTestAt(offset time.Duration) time.Time {
	return time.Unix(1_700_000_000, 0).Add(offset)
}

func TestRestartWindowExceeded(t *testing.T) {
	at := intensityTestAt
	w := newRestartWindow(Intensity{MaxRestarts: 3, Period: 5 * time.Second})
	require.Zero(t, w.count(at(0)))

	require.False(t, w.record(at(0)))
	require.False(t, w.record(at(1*time.Second)))
	require.False(t, w.record(at(2*time.Second)))
	require.Equal(t, 3, w.count(at(2*time.Second)))
	require.True(t, w.record(at(5*time.Second-time.Nanosecond)), "a 4th restart within 5s exceeds 3")
	require.Equal(t, 4, w.count(at(5*time.Second-time.Nanosecond)))
}

func TestRestartWindowBoundary(t *testing.T) {
	at := intensityTestAt
	w := newRestartWindow(Intensity{MaxRestarts: 3, Period: 5 * time.Second})
	for _, s := range []time.Duration{0, 1, 2} {
		require.False(t, w.record(at(s*time.Second)))
	}
	// The window is (now-Period, now]: the restart at 0 is exactly
	// Period old at 5s, so it no longer counts.
	require.Equal(t, 3, w.count(at(5*time.Second-time.Nanosecond)))
	require.Equal(t, 2, w.count(at(5*time.Second)))
	require.False(t, w.record(at(5*time.Second)), "restarts at 1s, 2s and 5s are only 3")
	require.Equal(t, 3, w.count(at(5*time.Second)))
}

func TestRestartWindowSlides(t *testing.T) {
	at := intensityTestAt
	w := newRestartWindow(Intensity{MaxRestarts: 3, Period: 5 * time.Second})
	require.False(t, w.record(at(0)))
	require.False(t, w.record(at(1*time.Second)))
	require.False(t, w.record(at(2*time.Second)))
	require.True(t, w.record(at(3*time.Second)))
	require.Equal(t, 4, w.count(at(3*time.Second)))

	// At 6.5s the restarts at 0s and 1s have slid out: 2s, 3s and 6.5s.
	require.False(t, w.record(at(6500*time.Millisecond)))
	require.Equal(t, 3, w.count(at(6500*time.Millisecond)))

	// At 7s the one at 2s is exactly Period old: 3s, 6.5s and 7s.
	require.False(t, w.record(at(7*time.Second)))
	require.Equal(t, 3, w.count(at(7*time.Second)))

	// At 7.9s nothing has slid out: 3s, 6.5s, 7s and 7.9s.
	require.True(t, w.record(at(7900*time.Millisecond)))
	require.Equal(t, 4, w.count(at(7900*time.Millisecond)))

	// After a long quiet period everything has slid out.
	require.Zero(t, w.count(at(time.Hour)))
	require.False(t, w.record(at(time.Hour)))
	require.False(t, w.record(at(time.Hour+time.Second)))
	require.Equal(t, 2, w.count(at(time.Hour+time.Second)))

	// count only looks back: restarts after now are not in (now-Period, now].
	require.Zero(t, w.count(at(time.Hour-time.Nanosecond)))
	require.Equal(t, 1, w.count(at(time.Hour)))
}

func TestRestartWindowZeroRestarts(t *testing.T) {
	at := intensityTestAt
	w := newRestartWindow(Intensity{MaxRestarts: 0, Period: time.Second})
	require.True(t, w.record(at(0)), "with MaxRestarts 0 the first restart is a meltdown")
	require.Equal(t, 1, w.count(at(0)))
	require.True(t, w.record(at(time.Hour)), "and so is any later one")
	require.Equal(t, 1, w.count(at(time.Hour)))
}

func TestRestartWindowMonotonicClock(t *testing.T) {
	base := time.Now() // carries a monotonic reading
	w := newRestartWindow(Intensity{MaxRestarts: 1, Period: time.Minute})
	require.False(t, w.record(base))
	require.True(t, w.record(base.Add(59*time.Second)))
	require.False(t, w.record(base.Add(2*time.Minute)))
}

func TestRestartWindowClampsInvalid(t *testing.T) {
	require.Len(t, newRestartWindow(Intensity{MaxRestarts: -5, Period: time.Second}).times, 1)
	require.Len(t, newRestartWindow(Intensity{MaxRestarts: math.MaxInt, Period: time.Second}).times, 10001)
	require.Len(t, newRestartWindow(DefaultIntensity()).times, 11)
}

// TestRestartWindowMatchesNaive compares the ring buffer with the
// definition: keep every restart and count those in (now-Period, now].
func TestRestartWindowMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for range 300 {
		i := Intensity{MaxRestarts: r.IntN(8), Period: time.Duration(1 + r.Int64N(int64(10*time.Second)))}
		w := newRestartWindow(i)
		var all []time.Time
		now := intensityTestAt(0)
		for step := range 200 {
			// Bursts, exact Period gaps and long pauses, all non-decreasing.
			switch r.IntN(4) {
			case 0:
				now = now.Add(i.Period)
			case 1:
				now = now.Add(time.Duration(r.Int64N(max(int64(i.Period)/4, 1))))
			default:
				now = now.Add(time.Duration(r.Int64N(max(2*int64(i.Period)/int64(i.MaxRestarts+1), 1))))
			}
			all = append(all, now)
			want := 0
			for k := len(all) - 1; k >= 0 && now.Sub(all[k]) < i.Period; k-- {
				want++ // times never decrease, so the rest are older
			}
			got := w.record(now)
			// The ring remembers only MaxRestarts+1 restarts, so count
			// saturates there; that is enough to tell a meltdown.
			if got != (want > i.MaxRestarts) || w.count(now) != min(want, i.MaxRestarts+1) {
				require.Failf(t, "window disagrees with its definition",
					"%+v step %d: record=%v count=%d, want %d restarts in window", i, step, got, w.count(now), want)
			}
		}
	}
}

func TestRestartWindowNoAllocs(t *testing.T) {
	w := newRestartWindow(Intensity{MaxRestarts: 3, Period: 5 * time.Second})
	now := intensityTestAt(0)
	allocs := testing.AllocsPerRun(1000, func() {
		now = now.Add(time.Second)
		w.record(now)
	})
	require.Zero(t, allocs)
}

func BenchmarkRestartWindowRecord(b *testing.B) {
	w := newRestartWindow(DefaultIntensity())
	now := intensityTestAt(0)
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		w.record(now)
	}
}
