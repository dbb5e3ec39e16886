#!/usr/bin/env bash
# Runs every benchmark of this module (ours against suture and oversight,
# and our hot paths) and those of the root module's ./lifecycle/ and ./sdk/
# in one run, $COUNT times each (default 5), into
# benchmarks/results/bench-<UTC time>.txt; then summarises the run with
# benchstat and rewrites the results section of benchmarks/README.md (between
# <!-- results:begin --> and <!-- results:end -->) from it.
#
#   bash benchmarks/run.sh            # about 5 minutes on 2 cores (COUNT=5)
#   COUNT=10 bash benchmarks/run.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
COUNT=${COUNT:-5}
case $COUNT in '' | *[!0-9]* | 0)
	echo "COUNT must be a positive integer, not '$COUNT'" >&2
	exit 2
	;;
esac

command -v go >/dev/null || export PATH=$PATH:/usr/local/go/bin
export PATH=$PATH:$(go env GOPATH)/bin
benchstat_version=v0.0.0-20260908200009-22c9c6c9d4da
if ! command -v benchstat >/dev/null; then
	echo "installing benchstat $benchstat_version" >&2
	go install "golang.org/x/perf/cmd/benchstat@$benchstat_version"
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$here/results"
out=$here/results/bench-$stamp.txt

# The whole list runs $COUNT times in turn, each command with -count=1,
# rather than each command once with -count=$COUNT: that way the libraries
# are sampled alternately, and a burst of load on the shared cores (or a
# slow drift) lands on all of them instead of on whichever ran then.
#
# Each group gets the benchtime its op needs: the cheap benchmarks run for
# 500ms; those whose op starts 10,000 children run a fixed number of ops
# (plus the 1-op warm-up of go test); the shutdown one, whose untimed setup
# is ~5x its timed part, runs 50 ops; the status load runs 200,000
# restarts (about half a second: long enough for its readers to meet the
# status page's per-second limit). BenchmarkRetainedAfterServe runs in a
# process of its own because what it measures (our machines that stay
# registered with the process-wide state metrics) never goes away.
cmds=(
	"cd benchmarks && go test -run '^\$' -bench '^Benchmark(HealthRead|SupervisorHealth|MachineTransition|RestartObserver|RestartOtel|OursOtelRestart|RestartLatency|CrashLoopSiblings)\$' -benchtime=500ms -benchmem -count=1 ."
	"cd benchmarks && go test -run '^\$' -bench '^BenchmarkStartStop\$/^children=1000\$' -benchtime=500ms -benchmem -count=1 ."
	"cd benchmarks && go test -run '^\$' -bench '^BenchmarkStartStop\$/^children=10000\$' -benchtime=5x -benchmem -count=1 ."
	"cd benchmarks && go test -run '^\$' -bench '^BenchmarkShutdown\$' -benchtime=50x -benchmem -count=1 ."
	"cd benchmarks && go test -run '^\$' -bench '^BenchmarkIdleChildHeap\$' -benchtime=3x -benchmem -count=1 ."
	"cd benchmarks && go test -run '^\$' -bench '^BenchmarkRetainedAfterServe\$' -benchtime=3x -benchmem -count=1 ."
	"cd benchmarks && go test -run '^\$' -bench '^BenchmarkOursOtelIdleChildHeap\$' -benchtime=3x -benchmem -count=1 ."
	"cd benchmarks && go test -run '^\$' -bench '^BenchmarkStatusLoad\$' -benchtime=200000x -benchmem -count=1 ."
	"go test -run '^\$' -bench . -benchmem -count=1 ./lifecycle/ ./sdk/"
)

nproc=$(nproc)
model=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/^model name[[:space:]]*:[[:space:]]*//' || true)
gover=$(go version)
date=$(date -u '+%Y-%m-%d %H:%M UTC')
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$root" status --porcelain 2>/dev/null | head -1 || true)
[ -n "$dirty" ] && commit="$commit (with uncommitted changes)"

{
	echo "# supervisor benchmarks, $date"
	echo "# machine: $nproc CPUs, $model"
	echo "# $gover; commit $commit"
	echo "# command: COUNT=$COUNT bash benchmarks/run.sh"
} >"$out"

load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown; }
# A digest of the code under test (the root module's packages that the
# benchmarks import or run, and its go.mod/go.sum), to detect a tree that
# changed while the benchmarks ran.
code_digest() {
	(
		cd "$root" || exit
		git ls-files -co --exclude-standard -- 'lifecycle/*.go' 'sdk/*.go' 'otelsup/*.go' 'internal/*.go' go.mod go.sum | sort |
			while read -r f; do if [ -f "$f" ]; then sha256sum "$f"; fi; done | sha256sum | cut -c1-12
	) 2>/dev/null || echo unknown
}
digest_before=$(code_digest)
load_before=$(load)
echo "# load average before: $load_before" >>"$out"
start=$(date +%s)
for round in $(seq 1 "$COUNT"); do
	for c in "${cmds[@]}"; do
		echo "# round $round/$COUNT: $c" | tee -a "$out" >&2
		(cd "$root" && bash -c "$c") | tee -a "$out"
	done
done
elapsed=$(($(date +%s) - start))
load_after=$(load)
digest_after=$(code_digest)
changed=""
if [ "$digest_before" != "$digest_after" ]; then
	changed="**Warning:** the code under test changed while the benchmarks ran (digest $digest_before before, $digest_after after): the rounds may not have measured the same code."
	echo "# WARNING: the code under test changed during the run ($digest_before -> $digest_after)" >>"$out"
	echo "warning: the code under test changed during the run" >&2
fi
echo "# took ${elapsed}s; load average after: $load_after" >>"$out"

# Summaries: the peers side by side (one column per library), then the
# benchmarks without a lib key (our hot paths, the root module's).
libs='/lib:(ours OR suture OR oversight OR floor OR mutex)'
# benchstat names its input in its headers: run it where the file is, so
# the results carry no path of this machine.
stat() { (cd "$(dirname "$out")" && benchstat "$@" "$(basename "$out")"); }
stat -col /lib -filter "$libs" >"${out%.txt}.peers.txt"
stat -format csv -col /lib -filter "$libs" >"${out%.txt}.peers.csv" 2>/dev/null
stat -filter "-$libs" >"${out%.txt}.hotpaths.txt"
table=$(cd "$here" && go run ./cmd/ratios -in "${out%.txt}.peers.csv")

section=$(mktemp)
trap 'rm -f "$section"' EXIT
{
	echo "<!-- results:begin -->"
	echo "<!-- Written by benchmarks/run.sh; edits here are overwritten. -->"
	echo "Run of $date, commit $commit (code digest $digest_before), ${elapsed}s."
	echo
	[ -n "$changed" ] && echo "$changed" && echo
	echo "- machine: $nproc CPUs ($model), shared and noisy; load average $load_before before the run, $load_after after"
	echo "- \`$gover\`"
	echo "- command: \`COUNT=$COUNT bash benchmarks/run.sh\`, which ran the following from the repository root, $COUNT times in turn:"
	for c in "${cmds[@]}"; do
		echo "  - \`$c\`"
	done
	echo
	echo "Medians of $COUNT runs (benchstat). Ratios below 1× favour ours."
	echo
	echo "$table"
	echo
	echo "<details><summary>benchstat -col /lib (all libraries side by side, with confidence intervals)</summary>"
	echo
	echo '```'
	cat "${out%.txt}.peers.txt"
	echo '```'
	echo "</details>"
	echo
	echo "<details><summary>benchstat of our hot paths and of the root module's benchmarks</summary>"
	echo
	echo '```'
	cat "${out%.txt}.hotpaths.txt"
	echo '```'
	echo "</details>"
	echo "<!-- results:end -->"
} >"$section"

readme=$here/README.md
if ! grep -q '^<!-- results:begin -->$' "$readme" || ! grep -q '^<!-- results:end -->$' "$readme"; then
	echo "$readme lacks the results markers; appending the section" >&2
	cat "$section" >>"$readme"
else
	awk -v section="$section" '
		/^<!-- results:begin -->$/ { while ((getline line < section) > 0) print line; skip = 1; next }
		/^<!-- results:end -->$/ { skip = 0; next }
		!skip { print }
	' "$readme" >"$readme.tmp"
	mv "$readme.tmp" "$readme"
fi
echo "results: $out" >&2
echo "README section updated: $readme" >&2
