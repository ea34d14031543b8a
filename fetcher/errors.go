package fetcher

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Sentinel errors of the HTTP side. Every error the package returns for a call
// names the endpoint it came from, and wraps one of these (or is an *HTTPError
// or a *NetError), so callers match with errors.Is / errors.As.
var (
	// ErrBodyTooLarge: the response body was bigger than the configured limit.
	ErrBodyTooLarge = errors.New("response body too large")
	// ErrBadResponse: the server answered, but not with what the endpoint
	// promises (malformed JSON, wrong shape, wrong content type, missing fields).
	ErrBadResponse = errors.New("bad response")
	// ErrTimeout: the call did not finish within its timeout. Errors wrapping
	// it also match context.DeadlineExceeded.
	ErrTimeout = errors.New("timed out")
	// ErrInjected: a fault injected by Gates (never produced by a real server).
	ErrInjected = errors.New("injected fault")
)

// HTTPError is a well-formed HTTP answer with a non-success status.
type HTTPError struct {
	Endpoint string // one of the endpoint names, see EndpointOf
	Status   int
	Code     string // the server's "code" field, e.g. "UNAUTHORIZED", "INVALID_ORIGIN"
	Message  string // the server's "message" field
	Body     string // a short excerpt of the body with secrets redacted
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("fetcher: %s: HTTP %d", e.Endpoint, e.Status)
	if t := http.StatusText(e.Status); t != "" && e.Code == "" && e.Message == "" {
		s += " " + t
	}
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Transient reports whether retrying later may succeed (5xx and 429).
func (e *HTTPError) Transient() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

// NetError is a failure below HTTP: dial, reset, EOF in the middle of a body,
// timeout, or an injected network fault. The server's state is unknown.
type NetError struct {
	Endpoint string
	Err      error
}

func (e *NetError) Error() string {
	return fmt.Sprintf("fetcher: %s: network error: %v", e.Endpoint, e.Err)
}

func (e *NetError) Unwrap() error { return e.Err }

// Transient is always true: the same call may succeed later.
func (e *NetError) Transient() bool { return true }

// Timeout reports whether the call ran out of time.
func (e *NetError) Timeout() bool { return errors.Is(e.Err, ErrTimeout) }

// IsTransient reports whether err is worth retrying: a network failure,
// a timeout, a 5xx or a 429. Caller cancellation is not transient.
func IsTransient(err error) bool {
	var t interface{ Transient() bool }
	return errors.As(err, &t) && t.Transient()
}

func timeoutError(after time.Duration) error {
	return fmt.Errorf("%w after %s (%w)", ErrTimeout, after, context.DeadlineExceeded)
}

func badResponse(endpoint, format string, args ...any) error {
	return fmt.Errorf("fetcher: %s: %w: %s", endpoint, ErrBadResponse, fmt.Sprintf(format, args...))
}
