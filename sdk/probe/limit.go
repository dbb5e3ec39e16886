package probe

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"
)

// defaultStatusLimit is how many /statusz responses a handler sends a
// second by default: a hundred open pages refreshing every 5s, or a few
// scrapers, fit in it many times over; two hundred clients asking as fast
// as they can do not, and they would take the CPU that supervision needs
// (each response is a copy of the whole tree onto a socket).
const defaultStatusLimit = 20

// maxStatusWait bounds how long a /statusz request waits for its turn. A
// request whose turn is further away is refused with 429, but only once
// the second has passed: a client that retries at once (as a flood of them
// does, whatever Retry-After says) then costs one request a second rather
// than as many as the handler can refuse, and the refusals cannot take the
// CPU that the limit keeps for supervision.
const maxStatusWait = time.Second

// WithStatusLimit sets how many /statusz responses the handler sends a
// second, shared by all its clients (default 20; 0 or less removes the
// limit). A request beyond the limit waits for its turn; when its turn is
// more than a second away it waits a second and gets 429 Too Many
// Requests, with Retry-After. A request whose client goes away while it
// waits returns then, giving its turn back. /livez and /readyz are never
// limited.
func WithStatusLimit(perSecond int) Option {
	return func(h *handler) { h.limit = newStatusLimit(perSecond) }
}

// statusLimit is a token bucket of one second's worth of responses.
type statusLimit struct {
	perSecond int
	bucket    *rate.Limiter
}

func newStatusLimit(perSecond int) *statusLimit {
	if perSecond <= 0 {
		return nil
	}
	return &statusLimit{perSecond: perSecond, bucket: rate.NewLimiter(rate.Limit(perSecond), perSecond)}
}

// admit waits for the request's turn and reports whether to serve it. It
// answers the request itself when it does not: 429 when the turn was too
// far away, nothing when the client went away while it waited.
func (l *statusLimit) admit(w http.ResponseWriter, r *http.Request) bool {
	if l == nil {
		return true
	}
	turn := l.bucket.Reserve()
	delay := turn.Delay()
	if delay == 0 {
		return true
	}
	refuse := delay > maxStatusWait
	wait := delay
	if refuse {
		turn.Cancel() // it is for others
		wait = maxStatusWait
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-r.Context().Done():
		if !refuse {
			turn.Cancel()
		}
		return false
	}
	if !refuse {
		return true
	}
	retry := max(1, int(math.Ceil((delay - maxStatusWait).Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(retry))
	text(w, http.StatusTooManyRequests, "too many requests: this handler sends at most "+
		strconv.Itoa(l.perSecond)+" status responses a second")
	return false
}
