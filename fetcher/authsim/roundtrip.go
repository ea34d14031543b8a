package authsim

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// InProcessRemoteAddr is the RemoteAddr a handler reached through a
// RoundTripper sees: a loopback address, as over a local socket.
const InProcessRemoteAddr = "127.0.0.1:1"

// ErrConnectionDropped is what a RoundTripper returns when the handler
// aborted the exchange (http.ErrAbortHandler, a hijacked and closed
// connection) or panicked: over TCP the client would see the connection
// close before an answer. It wraps io.EOF, as that read error does.
var ErrConnectionDropped = fmt.Errorf("authsim: connection closed by the in-process handler: %w", io.EOF)

// RoundTripper is an http.RoundTripper that hands each request to Handler
// in the same process, without a socket: a client using it talks to the
// handler as it would over HTTP/1.1 on loopback, with no connection, no
// kernel round trip and no server goroutines of net/http.
//
// The handler sees what a net/http server would give it: a request parsed
// from the request line (URL with path and query only, RequestURI, Host),
// the client's headers (cookies included: an http.Client adds them from its
// jar before the round trip) with the User-Agent and Accept-Encoding the
// HTTP/1.1 transport adds, a body read in full beforehand with its
// Content-Length, a loopback RemoteAddr, and a context of its own that ends
// when the client's request context ends or the handler returns. The
// client's context values do not reach the handler.
//
// The client gets what net/http's transport would give it: the status, the
// headers (a Date, a sniffed Content-Type when the handler set none,
// Content-Length, every Set-Cookie line), and the body as a reader to close,
// unzipped when the handler gzipped it for the Accept-Encoding the
// transport added. A request whose context ends before the handler
// finishes fails with the context's error, and so does reading the body
// after it. A handler that aborts or panics fails the round trip with
// ErrConnectionDropped, as a server closing the connection would; it never
// brings the process down.
//
// Each request runs the handler on a goroutine of its own, so that a
// cancelled request returns at once even from a handler that does not
// watch its context; with Inline, on the caller's goroutine.
type RoundTripper struct {
	Handler http.Handler
	// RemoteAddr is the handler's r.RemoteAddr (default InProcessRemoteAddr).
	RemoteAddr string
	// Inline runs the handler on the caller's goroutine, which saves a
	// goroutine, its stack's growth and two hand-offs per request. A
	// cancelled request then returns when the handler does: use it only
	// with a handler that returns once its request's context ends, as the
	// simulator's does (it waits on nothing else).
	Inline bool
}

// RoundTrip implements http.RoundTripper.
func (t *RoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		closeReqBody(req)
		return nil, errors.New("authsim: round trip: nil request URL")
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		closeReqBody(req)
		return nil, fmt.Errorf("authsim: round trip: unsupported protocol scheme %q", req.URL.Scheme)
	}
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		closeReqBody(req)
		return nil, err
	}
	sreq, err := t.serverRequest(req)
	if err != nil {
		return nil, err
	}
	hctx, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, cancel)
	sreq = sreq.WithContext(hctx)

	w := &bufferedWriter{header: http.Header{}}
	if t.Inline {
		err = serve(t.Handler, w, sreq)
		stop()
		cancel()
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			return nil, err
		}
		return w.response(req)
	}
	done := make(chan error, 1)
	go func() {
		err := serve(t.Handler, w, sreq)
		cancel() // the handler's context ends when it returns, as on a server
		done <- err
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		// The handler goes on alone with its context cancelled; what it
		// writes is dropped, as on a closed connection.
		return nil, ctx.Err()
	}
	stop()
	if err == nil {
		// A handler that returned because the request was cancelled
		// answered no one: the request fails, whichever came first.
		err = ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return w.response(req)
}

// serve runs h and turns an abort or a panic into ErrConnectionDropped.
func serve(h http.Handler, w *bufferedWriter, r *http.Request) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = ErrConnectionDropped
		}
	}()
	h.ServeHTTP(w, r)
	return nil
}

// serverRequest is req as a net/http server would parse it off the wire.
func (t *RoundTripper) serverRequest(req *http.Request) (*http.Request, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("authsim: round trip: reading the request body: %w", err)
		}
		body = b
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	uri := req.URL.RequestURI()
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, fmt.Errorf("authsim: round trip: request URI: %w", err)
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	h := req.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	delete(h, "Host")
	if _, ok := h["User-Agent"]; !ok {
		h.Set("User-Agent", "Go-http-client/1.1")
	}
	if h.Get("Accept-Encoding") == "" && h.Get("Range") == "" && method != http.MethodHead {
		h.Set("Accept-Encoding", "gzip")
	}
	sreq := &http.Request{
		Method:     method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       host,
		RequestURI: uri,
		RemoteAddr: t.RemoteAddr,
		Body:       http.NoBody,
	}
	if sreq.RemoteAddr == "" {
		sreq.RemoteAddr = InProcessRemoteAddr
	}
	if len(body) > 0 {
		sreq.Body = io.NopCloser(bytes.NewReader(body))
		sreq.ContentLength = int64(len(body))
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	if req.URL.Scheme == "https" {
		sreq.TLS = &tls.ConnectionState{HandshakeComplete: true, ServerName: req.URL.Hostname()}
	}
	return sreq, nil
}

// bufferedWriter is the handler's http.ResponseWriter: it keeps the whole
// answer for the client.
type bufferedWriter struct {
	header  http.Header
	sent    http.Header // the header as it was when the status was written
	status  int
	body    bytes.Buffer
	flushed bool
}

func (w *bufferedWriter) Header() http.Header { return w.header }

func (w *bufferedWriter) WriteHeader(code int) {
	if w.status != 0 || code < 100 || code > 999 {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		return // informational answers do not reach an http.Client's caller
	}
	w.status = code
	w.sent = w.header.Clone()
}

func (w *bufferedWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	return w.body.Write(b)
}

// Flush is a no-op: the client gets the answer when the handler returns.
func (w *bufferedWriter) Flush() { w.flushed = true }

func bodyAllowed(status int) bool {
	return !(status >= 100 && status < 200 || status == http.StatusNoContent || status == http.StatusNotModified)
}

// response is the client's view of the answer.
func (w *bufferedWriter) response(req *http.Request) (*http.Response, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	h := w.sent
	body := w.body.Bytes()
	if _, ok := h["Date"]; !ok {
		h["Date"] = []string{httpDate(time.Now())}
	}
	if _, ok := h["Content-Type"]; !ok && len(body) > 0 && h.Get("Content-Encoding") == "" {
		h.Set("Content-Type", http.DetectContentType(body))
	}
	if req.Method == http.MethodHead || !bodyAllowed(w.status) {
		body = nil
	} else if h.Get("Transfer-Encoding") == "" {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	text := http.StatusText(w.status)
	if text == "" {
		text = "status code " + strconv.Itoa(w.status)
	}
	resp := &http.Response{
		Status:        strconv.Itoa(w.status) + " " + text,
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		ContentLength: int64(len(body)),
		Request:       req,
	}
	rd := io.Reader(bytes.NewReader(body))
	if strings.EqualFold(h.Get("Content-Encoding"), "gzip") && req.Header.Get("Accept-Encoding") == "" && len(body) > 0 {
		// The transport asked for gzip on the caller's behalf: it unzips.
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("authsim: round trip: gzip answer: %w", err)
		}
		rd = zr
		h.Del("Content-Encoding")
		h.Del("Content-Length")
		resp.ContentLength = -1
		resp.Uncompressed = true
	}
	resp.Body = &responseBody{r: rd, ctx: req.Context()}
	return resp, nil
}

// lastDate is the Date header of the latest second formatted, as every
// answer within a second carries the same one.
var lastDate atomic.Pointer[dateLine]

type dateLine struct {
	sec  int64
	text string
}

// httpDate is t in the format of the Date header.
func httpDate(t time.Time) string {
	sec := t.Unix()
	if d := lastDate.Load(); d != nil && d.sec == sec {
		return d.text
	}
	d := &dateLine{sec: sec, text: t.UTC().Format(http.TimeFormat)}
	lastDate.Store(d)
	return d.text
}

// responseBody is an answer's body: reading it fails once the request's
// context has ended, as reading from a connection would.
type responseBody struct {
	r      io.Reader
	ctx    context.Context
	closed bool
}

func (b *responseBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, errors.New("http: read on closed response body")
	}
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	return b.r.Read(p)
}

func (b *responseBody) Close() error {
	b.closed = true
	return nil
}

func closeReqBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
