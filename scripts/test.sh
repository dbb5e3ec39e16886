#!/usr/bin/env bash
# The project's test command: formatting, vet, the race-enabled tests of
# every Go module in the repository (the core module at the root, and
# otelsup/otelexport/, deploy/, examples/quickstart/, benchmarks/, e2e/
# and its Jaeger tool module e2e/tools/), the core module's tests again on
# Go 1.25, one iteration of every benchmark so that none of them stops
# compiling, short fuzz runs and a few stress rounds.
# The README and .ci/run both call this. With CI=true the tests that need
# promtool, prometheus, Jaeger or Chromium fail when those are missing
# (.ci/run installs and builds them); otherwise they skip, and the Jaeger tests in
# e2e/ run only with E2E=1.
set -euo pipefail
cd "$(dirname "$0")/.."

modules=$(git ls-files -co --exclude-standard '*go.mod' | xargs -n1 dirname | sort)

unformatted=$(git ls-files -co --exclude-standard '*.go' | xargs gofmt -l)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi

# A short run of each fuzz target, on top of its committed corpus (which
# go test already replays). The budget is a count of executions, not a
# duration: with a duration, Go 1.26's fuzz coordinator can report a
# spurious "context deadline exceeded" at the end of the window
# (golang/go#75804, fixed in Go 1.27). FUZZTIME=0 skips it.
fuzz() {
	local pkg=$1 target=$2
	[ "${FUZZTIME:-100000x}" = 0 ] && return
	echo "== fuzz $target ($pkg, ${FUZZTIME:-100000x})"
	go test -run '^$' -fuzz "^$target\$" -fuzztime "${FUZZTIME:-100000x}" "$pkg"
}

# The core module's go directive is 1.25.0: Go 1.25 is still supported,
# so its tests run on it too. The go command fetches this toolchain
# through the module proxy the first time (about 70 MB). GO125=skip skips
# the run.
go125=${GO125:-go1.25.14}

for m in $modules; do
	echo "== module $m"
	(
		cd "$m"
		go vet ./...
		go test -race -count=1 ./...
		if ! out=$(go test -run '^$' -bench . -benchtime=1x ./... 2>&1); then
			echo "$out" >&2
			exit 1
		fi
	)
done

if [ "$go125" != skip ]; then
	echo "== core module on $go125"
	GOTOOLCHAIN=$go125 go version
	GOTOOLCHAIN=$go125 go test -race -count=1 ./...
fi

fuzz ./config/ FuzzLoad
fuzz ./lifecycle/ FuzzStateLabel
fuzz ./lifecycle/ FuzzExitReportJSON
fuzz ./lifecycle/ FuzzHealthJSON
fuzz ./sdk/ FuzzReportJSON
fuzz ./sdk/ FuzzBackoff
fuzz ./sdk/ FuzzEventString

# The concurrency, chaos and fault-injection tests again, a few times over
# under -race. STRESS_COUNT=0 skips it.
if [ "${STRESS_COUNT:-3}" != 0 ]; then
	COUNT=${STRESS_COUNT:-3} bash scripts/stress.sh
fi
