package probe

import (
	"bytes"
	"compress/gzip"
	"strconv"
	"strings"
	"sync"
)

// minCompressed is the smallest body worth compressing: below it gzip's
// framing and the client's inflating cost more than the bytes saved.
const minCompressed = 1 << 10

// gzipped is a page's body compressed once, on the first request that
// accepts gzip, and shared by all the others until the page is rendered
// again. A status is repetitive (the same fields for every child), so it
// shrinks about thirtyfold: 229 KB of JSON for 500 children is 8 KB.
type gzipped struct {
	once sync.Once
	body []byte
}

func newGzipped(body []byte) *gzipped {
	if len(body) < minCompressed {
		return nil
	}
	return &gzipped{}
}

// of returns body compressed, or nil when gzip failed (it does not when
// writing to memory, but then the body is sent as it is).
func (g *gzipped) of(body []byte) []byte {
	g.once.Do(func() {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		if _, err := w.Write(body); err != nil {
			return
		}
		if w.Close() == nil {
			g.body = b.Bytes()
		}
	})
	return g.body
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip: it
// is listed with a q-value above 0, or it is not listed and "*" is.
func acceptsGzip(header string) bool {
	star := false
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.TrimSpace(coding)
		if !strings.EqualFold(coding, "gzip") && coding != "*" {
			continue
		}
		ok := true
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(p, "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				ok = err == nil && q > 0
			}
		}
		if coding != "*" {
			return ok
		}
		star = ok
	}
	return star
}
