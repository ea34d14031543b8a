package fetcher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"
)

const (
	// DefaultTimeout bounds every call, so a hanging server cannot hang us.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxBody bounds every response body.
	DefaultMaxBody int64 = 1 << 20
)

// call is one HTTP exchange, described before it runs.
type call struct {
	endpoint string
	method   string
	url      string
	body     any // JSON-encoded when non-nil
	header   http.Header
	timeout  time.Duration
	maxBody  int64
	// cookies, when set, gives the request its Cookie header and stores
	// what the response sets, as an http.Client's Jar would.
	cookies *cookies
}

// reply is a complete, size-checked response.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r *reply) ok() bool { return r.status >= 200 && r.status < 300 }

// do runs c with hc and reads the whole body, turning every failure into an
// error that names the endpoint: *NetError (network, timeout), ErrBodyTooLarge,
// or the caller's cancellation.
func do(ctx context.Context, hc *http.Client, c call) (*reply, error) {
	start := time.Now()
	callCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	var body io.Reader
	if c.body != nil {
		b, err := json.Marshal(c.body)
		if err != nil {
			return nil, fmt.Errorf("fetcher: %s: encoding request: %w", c.endpoint, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(callCtx, c.method, c.url, body)
	if err != nil {
		return nil, fmt.Errorf("fetcher: %s: building request: %w", c.endpoint, err)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cookies != nil {
		if h := c.cookies.header(req.URL); h != "" {
			req.Header.Set("Cookie", h)
		}
	}

	resp, err := hc.Do(req)
	if err != nil {
		return nil, classify(ctx, callCtx, c.endpoint, start, err)
	}
	defer resp.Body.Close()
	if c.cookies != nil && len(resp.Header["Set-Cookie"]) > 0 {
		c.cookies.set(req.URL, resp.Cookies())
	}
	if resp.ContentLength > c.maxBody {
		return nil, tooLarge(c.endpoint, c.maxBody)
	}
	b, err := readBody(resp.Body, resp.ContentLength, c.maxBody)
	if err != nil {
		return nil, classify(ctx, callCtx, c.endpoint, start, err)
	}
	if int64(len(b)) > c.maxBody {
		return nil, tooLarge(c.endpoint, c.maxBody)
	}
	return &reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// readBody reads up to limit+1 bytes of body, into a buffer of the
// announced length when there is one (io.ReadAll would grow one from 512
// bytes, copying as it goes).
func readBody(body io.Reader, length, limit int64) ([]byte, error) {
	if length < 0 || length > limit {
		return io.ReadAll(io.LimitReader(body, limit+1))
	}
	buf := make([]byte, 0, length+1) // one byte more, to see the end
	for {
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case err == io.EOF:
			return buf, nil
		case err != nil:
			return buf, err
		case len(buf) == cap(buf):
			// Longer than announced: read on, to the limit.
			rest, err := io.ReadAll(io.LimitReader(body, limit+1-int64(len(buf))))
			return append(buf, rest...), err
		}
	}
}

func tooLarge(endpoint string, limit int64) error {
	return fmt.Errorf("fetcher: %s: %w (limit %d bytes)", endpoint, ErrBodyTooLarge, limit)
}

// classify sorts a transport or body-read error. The caller's own
// cancellation stays a plain context.Canceled (not transient: nobody wants the
// answer any more); a deadline is a timeout; everything else is a NetError.
func classify(ctx, callCtx context.Context, endpoint string, start time.Time, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the method and URL; the endpoint name says enough
	}
	var ne net.Error
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		return fmt.Errorf("fetcher: %s: %w", endpoint, err)
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("fetcher: %s: %w", endpoint, context.Canceled)
	case callCtx.Err() != nil, errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &NetError{Endpoint: endpoint, Err: timeoutError(time.Since(start).Round(time.Millisecond))}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &NetError{Endpoint: endpoint, Err: fmt.Errorf("connection closed in the middle of the response: %w", err)}
	case errors.Is(err, io.EOF):
		return &NetError{Endpoint: endpoint, Err: fmt.Errorf("connection closed before a response: %w", err)}
	default:
		return &NetError{Endpoint: endpoint, Err: err}
	}
}

// describeTypeError says which field had which JSON type, in words that do
// not depend on our Go type names.
func describeTypeError(te *json.UnmarshalTypeError) string {
	where := "the answer"
	if te.Field != "" {
		where = "field " + te.Field
	}
	return fmt.Sprintf("%s is a JSON %s, want %s", where, te.Value, kindOf(te.Type))
}

func kindOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.Kind().String()
}

// httpErrorOf builds the *HTTPError for a non-success reply, picking up the
// "code" and "message" fields Better Auth and Convex put in error bodies.
func httpErrorOf(endpoint string, r *reply) *HTTPError {
	e := &HTTPError{Endpoint: endpoint, Status: r.status, Body: excerpt(r.body)}
	var fields struct {
		Code    any `json:"code"`
		Message any `json:"message"`
	}
	if json.Unmarshal(r.body, &fields) == nil {
		if s, ok := fields.Code.(string); ok {
			e.Code = truncateRunes(printable(s), 80)
		}
		if s, ok := fields.Message.(string); ok {
			e.Message = truncateRunes(printable(redactText(s)), excerptRunes)
		}
	}
	return e
}

// decodeJSON checks the content type and decodes exactly one JSON value into
// v. Syntax errors, type mismatches and trailing data are ErrBadResponse.
func decodeJSON(endpoint string, r *reply, v any) error {
	ct := r.header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !(mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return badResponse(endpoint, "HTTP %d with content type %q, want application/json%s", r.status, ct, bodyHint(r.body))
	}
	if len(bytes.TrimSpace(r.body)) == 0 {
		return badResponse(endpoint, "HTTP %d with an empty body", r.status)
	}
	// One well-formed value of the right shape, the usual answer, needs
	// no stream: Unmarshal accepts exactly what the checks below accept.
	// Anything else goes the long way, which says what is wrong.
	if json.Unmarshal(r.body, v) == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return badResponse(endpoint, "malformed JSON at byte %d: %v%s", se.Offset, err, bodyHint(r.body))
		case errors.As(err, &te):
			return badResponse(endpoint, "JSON of the wrong shape: %s%s", describeTypeError(te), bodyHint(r.body))
		case errors.Is(err, io.ErrUnexpectedEOF):
			return badResponse(endpoint, "truncated JSON%s", bodyHint(r.body))
		default:
			return badResponse(endpoint, "JSON of the wrong shape: %v%s", err, bodyHint(r.body))
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return badResponse(endpoint, "trailing data after the JSON value%s", bodyHint(r.body))
	}
	return nil
}

func bodyHint(body []byte) string {
	if len(body) == 0 {
		return ""
	}
	return fmt.Sprintf(" (body: %q)", truncateRunes(excerpt(body), 60))
}
