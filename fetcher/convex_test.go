package fetcher

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func convexServer(t *testing.T, status int, body string, seen chan<- *http.Request) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		if seen != nil {
			seen <- r
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestQueryConvexSuccess(t *testing.T) {
	seen := make(chan *http.Request, 1)
	u := convexServer(t, 200, `{"status":"success","value":{"email":"ada@example.com"},"logLines":["hi"]}`, seen)
	res, err := QueryConvex(testCtx(t), nil, u+"/", "auth:getAuthUser", map[string]any{"x": 1}, "the.jwt.here")
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || string(res.Value) != `{"email":"ada@example.com"}` || res.HTTPStatus != 200 || len(res.LogLines) != 1 {
		t.Fatalf("res = %+v", res)
	}
	r := <-seen
	if r.Method != http.MethodPost || r.URL.Path != "/api/query" || r.Header.Get("Authorization") != "Bearer the.jwt.here" ||
		r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s %s %v", r.Method, r.URL.Path, r.Header)
	}
	var body map[string]any
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &body); err != nil || body["path"] != "auth:getAuthUser" || body["format"] != "json" ||
		body["args"].(map[string]any)["x"] != float64(1) {
		t.Fatalf("body %s", b)
	}
}

func TestQueryConvexNullValueAndNoAuth(t *testing.T) {
	seen := make(chan *http.Request, 1)
	u := convexServer(t, 200, `{"status":"success","value":null,"logLines":[]}`, seen)
	res, err := QueryConvex(testCtx(t), nil, u, "auth:getAuthUser", nil, "")
	if err != nil || !res.OK() || string(res.Value) != "null" {
		t.Fatalf("res = %+v, %v", res, err)
	}
	r := <-seen
	if _, ok := r.Header["Authorization"]; ok {
		t.Fatal("Authorization sent without a JWT")
	}
	b, _ := io.ReadAll(r.Body)
	if !strings.Contains(string(b), `"args":{}`) {
		t.Fatalf("nil args sent as %s", b)
	}
}

func TestQueryConvexFunctionError(t *testing.T) {
	u := convexServer(t, 560, `{"status":"error","errorMessage":"Uncaught ConvexError: Unauthenticated","errorData":"Unauthenticated","logLines":[]}`, nil)
	res, err := QueryConvex(testCtx(t), nil, u, "auth:getAuthUser", nil, "x.y.z")
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() || res.Status != "error" || res.HTTPStatus != 560 || !strings.Contains(res.ErrorMessage, "Unauthenticated") ||
		string(res.ErrorData) != `"Unauthenticated"` {
		t.Fatalf("res = %+v", res)
	}
}

func TestQueryConvexBad(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   wantKind
	}{
		{"401 bad auth", 401, `{"code":"Unauthenticated","message":"Could not verify OIDC token claim"}`, wantHTTP},
		{"500", 500, `oops`, wantHTTP},
		{"no status", 200, `{"value":1}`, wantBad},
		{"unknown status", 200, `{"status":"maybe"}`, wantBad},
		{"success without value", 200, `{"status":"success"}`, wantBad},
		{"error without message", 560, `{"status":"error"}`, wantBad},
		{"malformed", 200, `{"status":`, wantBad},
		{"logLines wrong type", 200, `{"status":"success","value":1,"logLines":"x"}`, wantBad},
		{"oversized", 200, `{"status":"success","value":"` + strings.Repeat("v", 2<<20) + `"}`, wantTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := convexServer(t, tc.status, tc.body, nil)
			res, err := QueryConvex(testCtx(t), nil, u, "auth:getAuthUser", nil, "")
			if res != nil {
				t.Fatalf("res = %+v", res)
			}
			checkErr(t, err, tc.want, "query")
			var he *HTTPError
			if tc.name == "401 bad auth" && errors.As(err, &he) && he.Code != "Unauthenticated" {
				t.Errorf("code = %q", he.Code)
			}
		})
	}
}
