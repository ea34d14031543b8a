package target

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authscope/authscope/fetcher/authsim"
)

// DetectSim recognises `authscope sim` by its control state, and nothing
// else: a 404, a redirect, HTML or JSON of another shape is a real server.
func TestDetectSim(t *testing.T) {
	srv, err := authsim.New(authsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(authsim.ControlPrefix, srv.ControlHandler())
	mux.Handle("/", srv)
	sim := httptest.NewServer(mux)
	defer sim.Close()
	if origin, ok := DetectSim(t.Context(), sim.URL+"/api/auth"); !ok || origin != sim.URL {
		t.Fatalf("the simulator: %q %v", origin, ok)
	}
	for name, h := range map[string]http.HandlerFunc{
		"404": http.NotFound,
		"redirect": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, sim.URL+authsim.ControlPrefix+"state", http.StatusFound)
		},
		"html": func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>ok</html>")) },
		"other json": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"ok":true}`))
		},
	} {
		other := httptest.NewServer(h)
		if origin, ok := DetectSim(t.Context(), other.URL+"/api/auth"); ok {
			t.Errorf("%s: taken for a simulator at %s", name, origin)
		}
		other.Close()
	}
	if _, ok := DetectSim(t.Context(), "http://127.0.0.1:1/api/auth"); ok {
		t.Error("nothing listening: taken for a simulator")
	}
	// The in-process simulator without its controls (a real server's stand-in).
	bare := httptest.NewServer(srv)
	defer bare.Close()
	if _, ok := DetectSim(t.Context(), bare.URL+"/api/auth"); ok {
		t.Error("a server without /_authsim: taken for a simulator")
	}
}
