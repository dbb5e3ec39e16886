// Package probe serves a supervisor's health over HTTP, for Kubernetes
// probes and for people.
//
// [Handler] serves three read-only endpoints, relative to where it is
// mounted:
//
//	GET /livez    200 "ok" while the supervisor is alive (it has not ended,
//	              starting and shutting down included), else 503 and its
//	              final state
//	GET /readyz   200 "ok" once the supervisor has started and every child
//	              that declares readiness is ready, in the whole tree;
//	              else 503 and the list of what is not ready
//	GET /statusz  the tree's [sdk.Status] as compact JSON, or an HTML page
//	              that refreshes itself when the client prefers text/html
//	              (a browser); ?format=json|html chooses; gzipped when
//	              the client accepts it, at most a second old, and at
//	              most 20 responses a second (beyond, a request waits
//	              its turn, or a second and gets 429)
//
// /livez?verbose and /readyz?verbose list each check ("[+]name ok",
// "[-]name failed: reason"), as Kubernetes components do.
//
// Mounted at the root of a dedicated port:
//
//	go http.ListenAndServe(":8081", probe.Handler(sup))
//
// or under a prefix of an existing mux:
//
//	mux.Handle("/debug/", http.StripPrefix("/debug", probe.Handler(sup)))
//
// with, in the pod spec:
//
//	livenessProbe:
//	  httpGet: {path: /livez, port: 8081}
//	readinessProbe:
//	  httpGet: {path: /readyz, port: 8081}
//
// Liveness stays 200 through the start and a graceful shutdown, so that a
// stopping pod is not restarted; it turns 503 once the supervisor has ended
// (completed, or failed after a meltdown or a fatal child), which is when a
// restart of the container can help.
//
// # Exposure
//
// The handler is safe to expose inside a cluster: it only reads (every
// other method gets 405), it has no controls, and the HTML page escapes
// everything it shows. It does reveal the names of the children and the
// text of their last errors, which may carry addresses or other internals,
// so do not expose it to the internet; serve it on a port that only the
// cluster reaches, or behind authentication.
package probe
