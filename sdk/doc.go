// Package sdk supervises goroutine tasks: declarative child specs, restart
// types and strategies, per-child backoff, restart intensity with
// escalation, supervision trees, panic recovery and ordered shutdown.
package sdk
