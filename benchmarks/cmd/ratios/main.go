// Command ratios turns the CSV that `benchstat -format csv -col /lib`
// prints into a markdown table: for each benchmark and unit, the median of
// each library (ours, suture, oversight, and the floor or baseline), ours
// divided by each peer, and whether the project's target for that row is
// met.
//
//	benchstat -format csv -col /lib results.txt | go run ./cmd/ratios
package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Columns of the table besides ours; the last shows the floor or, for
// the hot paths, the baseline design.
const (
	colOurs      = "ours"
	colSuture    = "suture"
	colOversight = "oversight"
	colFloor     = "floor"
	colMutex     = "mutex"
)

// target is one goal of the issue: ours ≤ max × peer for one (benchmark,
// unit).
type target struct {
	peer string
	max  float64
	text string
}

// targets, by benchmark name (lib key and GOMAXPROCS suffix removed) and
// unit.
var targets = map[[2]string]target{
	{"RestartLatency", "sec/op"}:                     {colSuture, 0.5, "≤ 0.5× suture"},
	{"StartStop/children=10000", "sec/op"}:           {colSuture, 0.7, "≤ 0.7× suture"},
	{"StartStop/children=10000", "allocs/op"}:        {colSuture, 1, "≤ suture"},
	{"StartStop/children=10000", "B/child"}:          {colSuture, 1, "≤ suture"},
	{"Shutdown/children=1000", "sec/op"}:             {colSuture, 1, "≤ suture"},
	{"Shutdown/children=1000", "B/op"}:               {colSuture, 1, "≤ suture"},
	{"Shutdown/children=1000", "allocs/op"}:          {colSuture, 1, "≤ suture"},
	{"IdleChildHeap/children=10000", "heap-B/child"}: {colSuture, 1, "≤ suture"},
	{"HealthRead/mode=parallel", "sec/op"}:           {colMutex, 0.1, "≥ 10× the mutex baseline (≤ 0.1× time)"},
}

// skip reports rows that carry no information: B/op where B/child says
// the same per child, and the time and allocations of the heap benchmarks,
// whose op is mostly forced collections.
func skip(bench, unit string, units map[string]bool) bool {
	switch {
	case unit == "B/op" && units["B/child"]:
		return true
	case (strings.HasPrefix(bench, "IdleChildHeap") || strings.HasPrefix(bench, "RetainedAfterServe")) &&
		(unit == "sec/op" || unit == "B/op" || unit == "allocs/op"):
		return true
	}
	return false
}

// allZero reports a row whose medians are all 0, such as the allocations
// of a path that allocates nothing anywhere.
func allZero(r row) bool {
	for _, c := range r.vals {
		if c.ok && c.v != 0 {
			return false
		}
	}
	return true
}

// cell is one median.
type cell struct {
	v  float64
	ok bool
}

// row is one benchmark in one unit.
type row struct {
	bench, unit string
	vals        map[string]cell
}

var procSuffix = regexp.MustCompile(`-\d+$`)

// parse reads benchstat's CSV: tables separated by blank lines, each with a
// header line naming the columns (the name sits on the first field of each
// column's group), a line of units, and one line per benchmark with the
// median in the first field of each group.
func parse(r io.Reader) ([]row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	var (
		rows   []row
		names  []string // column name per field index, "" if none
		units  []string // unit per field index
		expect = 0      // 0: header, 1: units, 2: data
	)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(rec) <= 1 {
			// A config line ("goos: linux").
			expect = 0
			continue
		}
		switch expect {
		case 0:
			if rec[0] != "" {
				continue
			}
			names = rec
			expect = 1
		case 1:
			units = rec
			expect = 2
		default:
			if rec[0] == "" {
				// encoding/csv drops blank lines, so the next table
				// starts here.
				names = rec
				expect = 1
				continue
			}
			if rec[0] == "geomean" {
				continue
			}
			rw := row{bench: procSuffix.ReplaceAllString(rec[0], ""), vals: map[string]cell{}}
			for i := 1; i < len(rec) && i < len(names); i++ {
				if names[i] == "" || i >= len(units) || units[i] == "CI" || units[i] == "vs base" || units[i] == "P" {
					continue
				}
				rw.unit = units[i]
				if rec[i] == "" {
					continue
				}
				v, err := strconv.ParseFloat(rec[i], 64)
				if err != nil {
					return nil, fmt.Errorf("%s %s: %q: %w", rw.bench, names[i], rec[i], err)
				}
				rw.vals[names[i]] = cell{v, true}
			}
			rows = append(rows, rw)
		}
	}
	return rows, nil
}

// human formats v in unit for reading.
func human(v float64, unit string) string {
	switch {
	case unit == "sec/op":
		for _, s := range []struct {
			f    float64
			name string
		}{{1, "s"}, {1e-3, "ms"}, {1e-6, "µs"}, {1e-9, "ns"}} {
			if math.Abs(v) >= s.f || s.name == "ns" {
				return sig(v/s.f) + " " + s.name
			}
		}
	case strings.HasPrefix(unit, "B/") || strings.HasSuffix(unit, "-B/child"):
		if v >= 1<<20 {
			return sig(v/(1<<20)) + " MiB"
		}
		if v >= 1<<10 {
			return sig(v/(1<<10)) + " KiB"
		}
		return sig(v) + " B"
	}
	return sig(v)
}

// sig prints 3 significant digits, without exponent.
func sig(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

func ratio(a, b cell) (float64, bool) {
	if !a.ok || !b.ok || b.v == 0 {
		return 0, false
	}
	return a.v / b.v, true
}

func fmtRatio(r float64, ok bool) string {
	if !ok {
		return "–"
	}
	return sig(r) + "×"
}

// write prints the markdown table.
func write(w io.Writer, rows []row) {
	units := map[string]map[string]bool{}
	for _, r := range rows {
		if units[r.bench] == nil {
			units[r.bench] = map[string]bool{}
		}
		units[r.bench][r.unit] = true
	}
	// Group the rows by benchmark, in the order benchmarks first appear.
	order := map[string]int{}
	for _, r := range rows {
		if _, ok := order[r.bench]; !ok {
			order[r.bench] = len(order)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return order[rows[i].bench] < order[rows[j].bench] })
	fmt.Fprintln(w, "| benchmark | unit | ours | suture | oversight | floor / baseline | ours/suture | ours/oversight | target | met? |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|---|---|")
	for _, r := range rows {
		ours := r.vals[colOurs]
		if !ours.ok || skip(r.bench, r.unit, units[r.bench]) || allZero(r) {
			continue
		}
		val := func(col string) string {
			if c := r.vals[col]; c.ok {
				return human(c.v, r.unit)
			}
			return "–"
		}
		floor := val(colFloor)
		if c := r.vals[colMutex]; c.ok {
			floor = val(colMutex) + " (mutex)"
		}
		goal, met := "", ""
		if t, ok := targets[[2]string{r.bench, r.unit}]; ok {
			goal = t.text
			if x, ok := ratio(ours, r.vals[t.peer]); !ok {
				met = "no data"
			} else if x <= t.max {
				met = fmt.Sprintf("**yes** (%s× %s)", sig(x), t.peer)
			} else {
				met = fmt.Sprintf("**no** (%s× %s; off by %s×)", sig(x), t.peer, sig(x/t.max))
			}
		}
		rs, oks := ratio(ours, r.vals[colSuture])
		ro, oko := ratio(ours, r.vals[colOversight])
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.bench, r.unit, val(colOurs), val(colSuture), val(colOversight), floor,
			fmtRatio(rs, oks), fmtRatio(ro, oko), goal, met)
	}
}

func main() {
	in := flag.String("in", "-", "benchstat CSV (-format csv -col /lib); - for standard input")
	flag.Parse()
	var r io.Reader = os.Stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ratios:", err)
			os.Exit(1)
		}
		defer f.Close()
		r = f
	}
	rows, err := parse(r)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
	if len(rows) == 0 {
		fmt.Fprintln(os.Stderr, "ratios: no benchmark rows in the input")
		os.Exit(1)
	}
	write(os.Stdout, rows)
}
