package config

// Every input Load takes has a bound, so that loading costs time and
// memory linear in the document and its error has a bounded size, whatever
// the document does; a document over a bound is rejected with a problem
// that names the field.

// MaxValueLen is the longest value of a field, in bytes, as written and
// once environment variables are expanded. The format's values are names,
// keys, labels and durations; the bound keeps a value, and what is made
// from it, small.
const MaxValueLen = 1024

// MaxDepth is the most levels of supervisors a tree has, the top-level
// one included: deeper trees are rejected at the supervisor field of the
// level past it.
const MaxDepth = 16

// maxBytes bounds the bytes of keys and values the decoder visits, aliases
// and environment variables expanded, so that a large value named by many
// aliases costs what it expands to. It is twice MaxSize so that no
// document without aliases or environment variables reaches it.
const maxBytes = 2 * MaxSize

// maxNodes bounds the nodes the decoder visits, aliases expanded, so that a
// small document whose aliases expand exponentially cannot exhaust memory
// or time.
const maxNodes = 100_000

// maxProblems bounds the problems a *ValidationError lists; it counts the
// others. Beyond a few dozen, more problems do not help the reader, and a
// hostile document could otherwise make an error as large as it likes.
const maxProblems = 50
