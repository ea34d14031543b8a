package target

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/authscope/authscope/fetcher/authsim"
)

// detectTimeout bounds DetectSim: a real server answers a 404 at once.
const detectTimeout = 3 * time.Second

// DetectSim reports whether the Better Auth base URL is served by
// `authscope sim`, and if so returns its origin, where the simulator also
// serves the Convex query endpoint (/api/query). The simulator answers GET
// <origin>/_authsim/state with its state as JSON (an alg and a map of
// endpoints); a real Better Auth server has no such path. Any failure,
// redirect or other answer means "not a simulator".
func DetectSim(ctx context.Context, baseURL string) (origin string, ok bool) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", false
	}
	origin = u.Scheme + "://" + u.Host
	ctx, cancel := context.WithTimeout(ctx, detectTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, origin+authsim.ControlPrefix+"state", nil)
	if err != nil {
		return "", false
	}
	// A transport of its own, closed when done: no connection of the probe
	// stays parked in a shared pool.
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", false
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return "", false
	}
	var st authsim.ControlState
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&st); err != nil || st.Alg == "" || st.Endpoints == nil {
		return "", false
	}
	return origin, true
}
