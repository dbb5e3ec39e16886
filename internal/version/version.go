// Package version holds the module's release version, reported as the
// instrumentation scope version by every package that emits telemetry.
package version

// Version is the module's semantic version. It is bumped with each release tag
// so that telemetry names the code that produced it.
const Version = "0.1.0"
