// Package tools holds no code: its module pins the Jaeger binary the
// end-to-end tests run, as a Go tool (the tool directive in go.mod).
//
// Jaeger has a module of its own because its dependency graph cannot share
// one with the supervisor's modules: the OpenTelemetry versions the e2e
// module requires (through otelexport's exporters and grpc-gateway) raise
// otelhttp past the version Jaeger v1.76.0 compiles against. In this
// module Jaeger builds with exactly the versions it was released with.
//
//	go tool -n jaeger   # builds it once into the Go build cache, prints its path
package tools
