package config

// Every input Load takes has a bound, so that loading costs time and
// memory linear in the document and its error has a bounded size, whatever
// the document does; a document over a bound is rejected with a problem
// that names the field.

// maxNodes bounds the nodes the decoder visits, aliases expanded, so that a
// small document whose aliases expand exponentially cannot exhaust memory
// or time.
const maxNodes = 100_000

// maxProblems bounds the problems a *ValidationError lists; it counts the
// others. Beyond a few dozen, more problems do not help the reader, and a
// hostile document could otherwise make an error as large as it likes.
const maxProblems = 50
