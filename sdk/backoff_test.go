package sdk

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestJitterLabels(t *testing.T) {
	labels := map[Jitter]string{
		JitterNone:         "none",
		JitterFull:         "full",
		JitterEqual:        "equal",
		JitterDecorrelated: "decorrelated",
	}
	for j, label := range labels {
		require.Equal(t, label, j.String())
		parsed, err := ParseJitter(label)
		require.NoError(t, err)
		require.Equal(t, j, parsed)
		text, err := j.MarshalText()
		require.NoError(t, err)
		require.Equal(t, label, string(text))
	}
	require.Equal(t, "Jitter(9)", Jitter(9).String())
}

func TestJitterParseUnknown(t *testing.T) {
	for _, label := range []string{"", "Full", "FULL", " full", "random", "Jitter(9)"} {
		_, err := ParseJitter(label)
		require.Error(t, err, "label %q", label)
		require.Contains(t, err.Error(), `"`+label+`"`)
	}
	_, err := Jitter(9).MarshalText()
	require.Error(t, err)

	j := JitterEqual
	require.Error(t, j.UnmarshalText([]byte("sometimes")))
	require.Equal(t, JitterEqual, j, "a failed UnmarshalText must not change the value")
}

func TestJitterJSONRoundTrip(t *testing.T) {
	type config struct {
		Jitter Jitter `json:"jitter"`
	}
	for j := JitterNone; j <= JitterDecorrelated; j++ {
		data, err := json.Marshal(config{Jitter: j})
		require.NoError(t, err)
		require.JSONEq(t, `{"jitter":"`+j.String()+`"}`, string(data))

		var got config
		require.NoError(t, json.Unmarshal(data, &got))
		require.Equal(t, j, got.Jitter)
	}

	var got config
	err := json.Unmarshal([]byte(`{"jitter":"bogus"}`), &got)
	require.ErrorContains(t, err, `"bogus"`)
	require.Error(t, json.Unmarshal([]byte(`{"jitter":1}`), &got), "numbers must not be accepted")
	_, err = json.Marshal(config{Jitter: 7})
	require.Error(t, err)

	// The label also travels inside a whole Backoff.
	b := Backoff{Initial: time.Second, Max: time.Minute, Multiplier: 2, Jitter: JitterDecorrelated, ResetAfter: time.Hour}
	data, err := json.Marshal(b)
	require.NoError(t, err)
	require.Contains(t, string(data), `"Jitter":"decorrelated"`)
	var back Backoff
	require.NoError(t, json.Unmarshal(data, &back))
	require.Equal(t, b, back)
}

func TestBackoffValidate(t *testing.T) {
	valid := Backoff{Initial: 100 * time.Millisecond, Max: 30 * time.Second, Multiplier: 2, Jitter: JitterFull, ResetAfter: time.Minute}

	for name, b := range map[string]Backoff{
		"typical":               valid,
		"all zero delays":       {Multiplier: 1},
		"immediate restart":     {Initial: 0, Max: time.Second, Multiplier: 2},
		"constant":              {Initial: time.Second, Max: time.Second, Multiplier: 1},
		"decorrelated":          {Initial: time.Second, Max: time.Minute, Multiplier: 3, Jitter: JitterDecorrelated},
		"huge multiplier":       {Initial: 1, Max: math.MaxInt64, Multiplier: math.MaxFloat64},
		"never reset by time":   {Initial: time.Second, Max: time.Minute, Multiplier: 2, ResetAfter: 0},
		"equal jitter":          {Initial: time.Second, Max: time.Minute, Multiplier: 1.5, Jitter: JitterEqual},
		"max duration":          {Initial: math.MaxInt64, Max: math.MaxInt64, Multiplier: 1},
		"reset after very long": {Initial: 1, Max: 2, Multiplier: 1, ResetAfter: math.MaxInt64},
	} {
		require.NoError(t, b.Validate(), name)
	}

	with := func(f func(*Backoff)) Backoff {
		b := valid
		f(&b)
		return b
	}
	for _, tc := range []struct {
		name  string
		b     Backoff
		field string
	}{
		{"negative initial", with(func(b *Backoff) { b.Initial = -1 }), "Backoff.Initial"},
		{"negative max", with(func(b *Backoff) { b.Max = -time.Second }), "Backoff.Max"},
		{"max below initial", with(func(b *Backoff) { b.Initial, b.Max = 2*time.Second, time.Second }), "Backoff.Max"},
		{"zero multiplier", with(func(b *Backoff) { b.Multiplier = 0 }), "Backoff.Multiplier"},
		{"shrinking multiplier", with(func(b *Backoff) { b.Multiplier = 0.999 }), "Backoff.Multiplier"},
		{"negative multiplier", with(func(b *Backoff) { b.Multiplier = -2 }), "Backoff.Multiplier"},
		{"NaN multiplier", with(func(b *Backoff) { b.Multiplier = math.NaN() }), "Backoff.Multiplier"},
		{"infinite multiplier", with(func(b *Backoff) { b.Multiplier = math.Inf(1) }), "Backoff.Multiplier"},
		{"unknown jitter", with(func(b *Backoff) { b.Jitter = JitterDecorrelated + 1 }), "Backoff.Jitter"},
		{"negative reset after", with(func(b *Backoff) { b.ResetAfter = -time.Nanosecond }), "Backoff.ResetAfter"},
		{"zero value", Backoff{}, "Backoff.Multiplier"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.b.Validate()
			require.ErrorIs(t, err, ErrInvalidSpec)
			var se *SpecError
			require.True(t, errors.As(err, &se))
			require.Equal(t, tc.field, se.Field)
			require.Empty(t, se.Child, "the caller fills in Child")
			require.NotEmpty(t, se.Problem)
		})
	}
}

func TestBackoffDelay(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name string
		b    Backoff
		want []time.Duration // for n = 1, 2, ...
	}{
		{
			name: "doubling capped at max",
			b:    Backoff{Initial: 100 * ms, Max: time.Second, Multiplier: 2},
			want: []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second, time.Second},
		},
		{
			name: "zero initial never grows",
			b:    Backoff{Initial: 0, Max: time.Second, Multiplier: 2},
			want: []time.Duration{0, 0, 0, 0, 0},
		},
		{
			name: "multiplier 1 is constant",
			b:    Backoff{Initial: 300 * ms, Max: time.Second, Multiplier: 1},
			want: []time.Duration{300 * ms, 300 * ms, 300 * ms, 300 * ms},
		},
		{
			name: "fractional multiplier",
			b:    Backoff{Initial: time.Second, Max: 10 * time.Second, Multiplier: 1.5},
			want: []time.Duration{time.Second, 1500 * ms, 2250 * ms, 3375 * ms, 5062500 * time.Microsecond, 7593750 * time.Microsecond, 10 * time.Second},
		},
		{
			name: "max equals initial",
			b:    Backoff{Initial: time.Second, Max: time.Second, Multiplier: 10},
			want: []time.Duration{time.Second, time.Second, time.Second},
		},
		{
			name: "zero max",
			b:    Backoff{Multiplier: 2},
			want: []time.Duration{0, 0, 0},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, want := range tc.want {
				require.Equal(t, want, tc.b.Delay(i+1), "n=%d", i+1)
			}
		})
	}

	b := Backoff{Initial: 100 * ms, Max: time.Second, Multiplier: 2}
	require.Equal(t, 100*ms, b.Delay(0), "n below 1 is treated as 1")
	require.Equal(t, 100*ms, b.Delay(-5))
	require.Equal(t, 100*ms, b.Delay(math.MinInt))
}

func TestBackoffDelayOverflow(t *testing.T) {
	const maxDur = time.Duration(math.MaxInt64)
	for _, b := range []Backoff{
		{Initial: 100 * time.Millisecond, Max: time.Hour, Multiplier: 2},
		{Initial: time.Nanosecond, Max: maxDur, Multiplier: 2},
		{Initial: time.Second, Max: maxDur, Multiplier: 1e300},
		{Initial: time.Second, Max: time.Minute, Multiplier: 1e300},
		{Initial: maxDur / 2, Max: maxDur, Multiplier: 3},
		{Initial: time.Second, Max: maxDur, Multiplier: math.MaxFloat64},
		{Initial: time.Second, Max: maxDur, Multiplier: 1.0000001},
		{Initial: time.Nanosecond, Max: time.Nanosecond, Multiplier: 2},
	} {
		prev := time.Duration(0)
		for _, n := range []int{1, 2, 3, 10, 62, 63, 64, 100, 1000, 1 << 20, 1 << 30, math.MaxInt32, math.MaxInt} {
			d := b.Delay(n)
			require.GreaterOrEqual(t, d, time.Duration(0), "%+v n=%d", b, n)
			require.LessOrEqual(t, d, b.Max, "%+v n=%d", b, n)
			require.GreaterOrEqual(t, d, prev, "%+v n=%d: delay must not shrink", b, n)
			prev = d
		}
		require.Equal(t, b.Max, b.Delay(math.MaxInt), "%+v", b)
	}

	// Invalid policies are clamped rather than trusted.
	for _, b := range []Backoff{
		{Initial: time.Second, Max: time.Minute, Multiplier: math.NaN()},
		{Initial: time.Second, Max: time.Minute, Multiplier: math.Inf(1)},
		{Initial: time.Second, Max: time.Minute, Multiplier: -3},
		{Initial: time.Second, Max: time.Minute, Multiplier: 0.5},
		{Initial: -time.Second, Max: time.Minute, Multiplier: 2},
		{Initial: time.Second, Max: -time.Minute, Multiplier: 2},
		{Initial: time.Hour, Max: time.Minute, Multiplier: 2},
	} {
		for _, n := range []int{1, 2, 3, 4, 1 << 30} {
			d := b.Delay(n)
			require.GreaterOrEqual(t, d, time.Duration(0), "%+v n=%d", b, n)
			require.LessOrEqual(t, d, max(b.Max, 0), "%+v n=%d", b, n)
		}
	}
}

// backoffTestPolicy draws a valid policy, favouring the edges (zero,
// equal bounds, the largest durations) where overflow and off-by-one bugs
// hide.
func backoffTestPolicy(r *rand.Rand, jitter Jitter) Backoff {
	pick := func(choices ...time.Duration) time.Duration { return choices[r.IntN(len(choices))] }
	b := Backoff{Jitter: jitter}
	b.Initial = pick(0, 1, time.Millisecond, time.Duration(r.Int64N(int64(10*time.Second))), math.MaxInt64/4)
	b.Max = b.Initial + pick(0, 1, time.Duration(r.Int64N(int64(time.Minute))), math.MaxInt64-b.Initial)
	switch r.IntN(4) {
	case 0:
		b.Multiplier = 1
	case 1:
		b.Multiplier = 1e300
	default:
		b.Multiplier = 1 + 9*r.Float64()
	}
	b.ResetAfter = pick(0, 0, time.Nanosecond, time.Duration(1+r.Int64N(int64(time.Hour))))
	return b
}

func TestBackoffStateProperties(t *testing.T) {
	params := rand.New(rand.NewPCG(7, 11))
	for jitter := JitterNone; jitter <= JitterDecorrelated; jitter++ {
		t.Run(jitter.String(), func(t *testing.T) {
			for range 500 {
				b := backoffTestPolicy(params, jitter)
				require.NoError(t, b.Validate())
				s := newBackoffState(b, rand.New(rand.NewPCG(params.Uint64(), params.Uint64())))
				require.Zero(t, s.consecutive())

				var prev time.Duration
				for step := range 200 {
					// Mostly short runs, sometimes one long enough to reset.
					ran := time.Duration(params.Int64N(int64(time.Second)))
					if params.IntN(10) == 0 {
						ran = max(b.ResetAfter, time.Duration(params.Int64N(math.MaxInt64)))
					}
					before := s.consecutive()
					reset := b.ResetAfter > 0 && ran >= b.ResetAfter
					d := s.next(ran)
					n := s.consecutive()
					exp := b.Delay(n)
					// Checked by hand and reported through require only on
					// failure: tens of thousands of reflective assertions
					// would dominate the run time under -race.
					check := func(ok bool, property string) {
						if !ok {
							require.Failf(t, "backoff property violated", "%s: policy %+v, step %d, ran %v: delay %v, consecutive %d, exponential %v, previous %v",
								property, b, step, ran, d, n, exp, prev)
						}
					}

					if reset {
						check(n == 1, "a stable run resets the count")
					} else {
						check(n == before+1, "each failure counts")
					}
					check(d >= 0 && d <= b.Max, "delay within [0, Max]")

					switch jitter {
					case JitterNone:
						check(d == exp, "no jitter gives Delay(n)")
						check(n == 1 || d >= prev, "growth is non-decreasing")
					case JitterFull:
						check(d <= exp, "full jitter within [0, Delay(n)]")
					case JitterEqual:
						check(d >= exp/2 && d <= exp, "equal jitter within [Delay(n)/2, Delay(n)]")
					case JitterDecorrelated:
						check(d >= b.Initial, "decorrelated at least Initial")
						if n == 1 {
							check(d <= min(b.Max, 3*b.Initial), "first decorrelated delay within [Initial, 3*Initial]")
						} else if prev <= b.Max/3 {
							check(d <= 3*prev, "decorrelated at most 3 times the previous delay")
						}
					}
					if reset && jitter != JitterDecorrelated {
						check(d <= min(b.Initial, b.Max), "a reset returns to the first-restart delay")
						check(jitter != JitterNone || d == b.Initial, "a reset returns to Initial")
					}
					prev = d
				}
			}
		})
	}
}

func TestBackoffStateResetAfter(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2, ResetAfter: time.Minute}
	s := newBackoffState(b, nil)
	for range 5 {
		s.next(time.Minute - 1)
	}
	require.Equal(t, 5, s.consecutive())
	require.Equal(t, 3200*time.Millisecond, s.next(time.Second))

	require.Equal(t, 100*time.Millisecond, s.next(time.Minute), "a run of exactly ResetAfter is stable")
	require.Equal(t, 1, s.consecutive())
	require.Equal(t, 200*time.Millisecond, s.next(0))

	s.reset()
	require.Zero(t, s.consecutive())
	require.Equal(t, 100*time.Millisecond, s.next(0))

	// ResetAfter 0: however long the child ran, growth continues.
	b.ResetAfter = 0
	s = newBackoffState(b, nil)
	for i := range 10 {
		require.Equal(t, b.Delay(i+1), s.next(math.MaxInt64))
		require.Equal(t, i+1, s.consecutive())
	}
	require.Equal(t, 10*time.Second, s.next(math.MaxInt64))
}

func TestBackoffStateDefaultRand(t *testing.T) {
	b := Backoff{Initial: time.Second, Max: time.Minute, Multiplier: 2}
	for jitter := JitterNone; jitter <= JitterDecorrelated; jitter++ {
		b.Jitter = jitter
		s := newBackoffState(b, nil)
		require.IsType(t, globalRand{}, s.rnd)
		for range 100 {
			d := s.next(0)
			require.GreaterOrEqual(t, d, time.Duration(0))
			require.LessOrEqual(t, d, b.Max)
		}
	}
}

// badRand returns values outside [0, n) to show that a faulty source
// cannot break the Max bound.
type badRand struct{ v int64 }

func (r badRand) Int64N(int64) int64 { return r.v }

func TestBackoffStateClampsBadRand(t *testing.T) {
	for _, v := range []int64{-1, math.MinInt64, math.MaxInt64} {
		for jitter := JitterFull; jitter <= JitterDecorrelated; jitter++ {
			b := Backoff{Initial: time.Second, Max: time.Minute, Multiplier: 2, Jitter: jitter}
			s := newBackoffState(b, badRand{v})
			for range 10 {
				d := s.next(0)
				require.GreaterOrEqual(t, d, time.Duration(0), "v=%d %v", v, jitter)
				require.LessOrEqual(t, d, b.Max, "v=%d %v", v, jitter)
			}
		}
	}
}

// edgeRand always draws the lowest or the highest value, to pin down that
// both ends of every jitter range are reachable and never exceeded.
type edgeRand struct{ top bool }

func (r edgeRand) Int64N(n int64) int64 {
	if r.top {
		return n - 1
	}
	return 0
}

func TestBackoffStateRangeEnds(t *testing.T) {
	// Odd nanosecond delays catch halving that rounds the wrong way.
	b := Backoff{Initial: 3, Max: 41, Multiplier: 3}
	for _, tc := range []struct {
		jitter Jitter
		top    bool
		want   []time.Duration
	}{
		{JitterFull, false, []time.Duration{0, 0, 0, 0}},
		{JitterFull, true, []time.Duration{3, 9, 27, 41}},
		{JitterEqual, false, []time.Duration{1, 4, 13, 20}},
		{JitterEqual, true, []time.Duration{3, 9, 27, 41}},
		{JitterDecorrelated, false, []time.Duration{3, 3, 3, 3}},
		{JitterDecorrelated, true, []time.Duration{9, 27, 41, 41}},
	} {
		b.Jitter = tc.jitter
		s := newBackoffState(b, edgeRand{tc.top})
		got := make([]time.Duration, len(tc.want))
		for i := range got {
			got[i] = s.next(0)
		}
		require.Equal(t, tc.want, got, "%v top=%v", tc.jitter, tc.top)
	}
}

// TestBackoffStateGolden pins the exact sequences for a seeded source, so
// any change to the jitter algorithms, including the order or number of
// random draws, shows up here. The seventh attempt ran for ResetAfter and
// so restarts the growth.
func TestBackoffStateGolden(t *testing.T) {
	ran := []time.Duration{0, 0, 0, 0, 0, 0, time.Second, 0, 0, 0, 0, 0}
	golden := map[Jitter][]time.Duration{
		JitterNone: {
			100000000, 200000000, 400000000, 800000000, 1600000000, 3000000000,
			100000000, 200000000, 400000000, 800000000, 1600000000, 3000000000,
		},
		JitterFull: {
			76937327, 123287245, 313771201, 637277263, 374842033, 123615771,
			49991176, 89876776, 53119735, 146984941, 1059066223, 1334366910,
		},
		JitterEqual: {
			88468664, 161643622, 356885601, 718638632, 987421016, 1561807885,
			74995588, 144938388, 226559867, 473492470, 1329533112, 2167183455,
		},
		JitterDecorrelated: {
			253874654, 507848977, 1216670075, 2410130078, 779401185, 192225752,
			199982351, 324668145, 216067211, 200721731, 432391372, 632489842,
		},
	}
	for jitter, want := range golden {
		b := Backoff{Initial: 100 * time.Millisecond, Max: 3 * time.Second, Multiplier: 2, Jitter: jitter, ResetAfter: time.Second}
		s := newBackoffState(b, rand.New(rand.NewPCG(1, 2)))
		got := make([]time.Duration, len(ran))
		for i, r := range ran {
			got[i] = s.next(r)
		}
		require.Equal(t, want, got, jitter.String())
	}
}

func TestBackoffStateNoAllocs(t *testing.T) {
	for jitter := JitterNone; jitter <= JitterDecorrelated; jitter++ {
		s := newBackoffState(Backoff{Initial: time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: jitter, ResetAfter: time.Second}, rand.New(rand.NewPCG(1, 2)))
		var ran time.Duration
		allocs := testing.AllocsPerRun(1000, func() {
			ran += 100 * time.Millisecond
			s.next(ran % (2 * time.Second))
		})
		require.Zero(t, allocs, jitter.String())
	}
}

func BenchmarkBackoffStateNext(b *testing.B) {
	for jitter := JitterNone; jitter <= JitterDecorrelated; jitter++ {
		b.Run(jitter.String(), func(b *testing.B) {
			s := newBackoffState(Backoff{Initial: time.Millisecond, Max: time.Minute, Multiplier: 2, Jitter: jitter, ResetAfter: time.Second}, rand.New(rand.NewPCG(1, 2)))
			b.ReportAllocs()
			var ran time.Duration
			for b.Loop() {
				ran += 10 * time.Millisecond
				s.next(ran % (2 * time.Second))
			}
		})
	}
}
