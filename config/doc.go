// Package config builds supervision trees from declarative configuration
// files, so that policies (strategies, restart intensity, backoff, timeouts,
// dependencies) can change without recompiling.
//
// A configuration describes one supervisor, its children and, recursively,
// nested supervisors. Code registers the services that can run under task
// keys; the file says which run where and how:
//
//	var reg config.Registry
//	reg.Register("http", func(fc config.FactoryContext) (sdk.Service, error) { return newServer(), nil })
//	cfg, err := config.LoadFile("tree.yaml")  // strict decoding, ${ENV} expansion, validation
//	tree, err := config.Build(cfg, &reg, sdk.WithEventHook(log))
//	err = tree.Root.Start(ctx)
//	report, err := tree.Shutdown(context.Background(), "operator", "deploy")
//
// A child inherits each field it leaves out from its supervisor's
// defaults, which cascade into nested supervisors, and otherwise from its
// role's preset; backoff fields are inherited one by one. Every problem in
// a configuration is reported at once, each at the path of the field and
// its line: "line 12: children[2].backoff.max: must be >=
// children[2].backoff.initial (100ms)". Nothing is built when there is one.
//
// Names of supervisors and children follow sdk.CheckName: 1 to
// sdk.MaxNameLen (63) bytes of letters, digits, '_', '-' and '.'.
//
// supervisor.schema.json is a JSON Schema (draft 2020-12) of the format,
// for editors; it is generated from the Go model by
// config/internal/schemagen, and a test fails when it is stale.
//
// # YAML library
//
// YAML is parsed by go.yaml.in/yaml/v3, chosen on purpose: it is the
// continuation of gopkg.in/yaml.v3 maintained by the YAML organisation
// (gopkg.in/yaml.v3 is unmaintained), it is already in the module graph as
// a dependency of testify, so it adds no new module, and it gives what a
// strict, precise loader needs: a node tree with the line of every key and
// value (so every problem can name its line), and a strict mode
// (Decoder.KnownFields) that rejects unknown fields. The loader walks the
// node tree itself rather than using KnownFields, so that it can report
// every unknown field and type error at once, with its field path, expand
// environment variables before values are typed, and reject duplicate
// keys. JSON is parsed with encoding/json into the same node tree, since
// JSON is not quite a subset of YAML ("\/" is not a YAML escape).
package config

//go:generate go run ./cmd/schemagen -o supervisor.schema.json
