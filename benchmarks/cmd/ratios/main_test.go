package main

import (
	"strings"
	"testing"
)

// input is benchstat -format csv -col /lib output, two tables.
const input = `goos: linux
pkg: github.com/supervisor-sdk/supervisor/benchmarks
,ours,,mutex,,,,suture,,,,oversight,,,,floor,,,
,sec/op,CI,sec/op,CI,vs base,P,sec/op,CI,vs base,P,sec/op,CI,vs base,P,sec/op,CI,vs base,P
HealthRead/mode=parallel-2,8e-09,∞,7.2e-08,∞,~,p=0.100 n=3
RestartLatency-2,2e-06,∞,,,,,1e-05,∞,~,p=0.700 n=3,4e-06,∞,~,p=0.100 n=3,5e-09,∞,~,p=0.100 n=3
geomean,6.8e-08,,6.7e-08,,+423.45%,,1.6e-06,,-16.12%,,3.6e-06,,+87.57%,,5.3e-09,,-99.72%,

,ours,,mutex,,,,suture,,,,oversight,,,,floor,,,
,allocs/op,CI,allocs/op,CI,vs base,P,allocs/op,CI,vs base,P,allocs/op,CI,vs base,P,allocs/op,CI,vs base,P
HealthRead/mode=parallel-2,0,∞,0,∞,~,p=1.000 n=3
RestartLatency-2,8,∞,,,,,7,∞,~,p=0.100 n=3,36,∞,~,p=0.100 n=3,0,∞,~,p=0.100 n=3
`

func TestParse(t *testing.T) {
	rows, err := parse(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4: %+v", len(rows), rows)
	}
	r := rows[1]
	if r.bench != "RestartLatency" || r.unit != "sec/op" {
		t.Fatalf("row 1 is %s %s", r.bench, r.unit)
	}
	for col, want := range map[string]float64{colOurs: 2e-6, colSuture: 1e-5, colOversight: 4e-6, colFloor: 5e-9} {
		if c := r.vals[col]; !c.ok || c.v != want {
			t.Errorf("%s = %+v, want %g", col, c, want)
		}
	}
	if _, ok := r.vals[colMutex]; ok {
		t.Error("RestartLatency has a mutex value")
	}
	if r := rows[3]; r.unit != "allocs/op" || r.vals[colOversight].v != 36 {
		t.Errorf("row 3 = %+v", r)
	}
}

func TestWrite(t *testing.T) {
	rows, err := parse(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	write(&b, rows)
	out := b.String()
	for _, want := range []string{
		"| RestartLatency | sec/op | 2.00 µs | 10.0 µs | 4.00 µs | 5.00 ns | 0.2× | 0.5× | ≤ 0.5× suture | **yes** (0.2× suture) |",
		"| HealthRead/mode=parallel | sec/op | 8.00 ns | – | – | 72.0 ns (mutex) | – | – | ≥ 10× the mutex baseline (≤ 0.1× time) | **no** (0.111× mutex; off by 1.11×) |",
		"| RestartLatency | allocs/op | 8.00 | 7.00 | 36.0 | 0 | 1.14× | 0.222× |  |  |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "HealthRead/mode=parallel | allocs/op") {
		t.Errorf("an all-zero row was printed:\n%s", out)
	}
}
