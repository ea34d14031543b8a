package fetcher

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// StatusConvexFunctionFailed is the status Convex uses for "the function ran
// and threw"; the body is still a function result.
const StatusConvexFunctionFailed = 560

// QueryResult is the outcome of a Convex query run through the HTTP API.
type QueryResult struct {
	Status       string          // "success" or "error"
	Value        json.RawMessage // when Status is "success"
	ErrorMessage string          // when Status is "error"
	ErrorData    json.RawMessage // ConvexError data, when present
	LogLines     []string
	HTTPStatus   int
}

// OK reports whether the function returned a value.
func (r *QueryResult) OK() bool { return r != nil && r.Status == "success" }

// LogValue implements slog.LogValuer; the value itself may hold user data and
// is left out.
func (r *QueryResult) LogValue() slog.Value {
	if r == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(
		slog.String("status", r.Status),
		slog.Int("http", r.HTTPStatus),
		slog.String("error", r.ErrorMessage),
	)
}

type queryWire struct {
	Status       *string         `json:"status"`
	Value        json.RawMessage `json:"value"`
	ErrorMessage *string         `json:"errorMessage"`
	ErrorData    json.RawMessage `json:"errorData"`
	LogLines     []string        `json:"logLines"`
}

// QueryConvex runs a query function through the Convex HTTP API: POST
// <convexURL>/api/query {"path","args","format":"json"}, with
// "Authorization: Bearer <jwt>" when jwt is not empty. HTTP 200 and 560 are
// function results (Status "success" or "error"); any other non-2xx status is
// an *HTTPError. httpClient nil means http.DefaultClient. The call is bounded
// by DefaultTimeout and the body by DefaultMaxBody.
func QueryConvex(ctx context.Context, httpClient *http.Client, convexURL, path string, args any, jwt string) (*QueryResult, error) {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	if args == nil {
		args = map[string]any{}
	}
	h := http.Header{}
	h.Set("Accept", "application/json")
	if jwt != "" {
		h.Set("Authorization", "Bearer "+jwt)
	}
	r, err := do(ctx, httpClient, call{
		endpoint: EndpointQuery,
		method:   http.MethodPost,
		url:      strings.TrimRight(convexURL, "/") + "/api/query",
		body:     map[string]any{"path": path, "args": args, "format": "json"},
		header:   h,
		timeout:  DefaultTimeout,
		maxBody:  DefaultMaxBody,
	})
	if err != nil {
		return nil, err
	}
	if !r.ok() && r.status != StatusConvexFunctionFailed {
		return nil, httpErrorOf(EndpointQuery, r)
	}
	var w queryWire
	if err := decodeJSON(EndpointQuery, r, &w); err != nil {
		return nil, err
	}
	res := &QueryResult{HTTPStatus: r.status, LogLines: w.LogLines, ErrorData: w.ErrorData}
	switch {
	case w.Status == nil:
		return nil, badResponse(EndpointQuery, "no status in the answer")
	case *w.Status == "success":
		if w.Value == nil {
			return nil, badResponse(EndpointQuery, "status success without a value")
		}
		res.Status, res.Value = "success", w.Value
	case *w.Status == "error":
		if w.ErrorMessage == nil {
			return nil, badResponse(EndpointQuery, "status error without an errorMessage")
		}
		res.Status, res.ErrorMessage = "error", *w.ErrorMessage
	default:
		return nil, badResponse(EndpointQuery, "status %q, want success or error", clip(*w.Status))
	}
	return res, nil
}

// String summarizes r for a status line.
func (r *QueryResult) String() string {
	if r == nil {
		return "<nil>"
	}
	if r.Status == "success" {
		return fmt.Sprintf("success %s", truncateRunes(printable(string(r.Value)), 80))
	}
	return fmt.Sprintf("error %q", truncateRunes(printable(r.ErrorMessage), 80))
}
