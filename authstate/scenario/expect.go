package scenario

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/authscope/authscope/authstate"
)

// check evaluates every expectation against the engine's final state.
func (r *run) check(ctx context.Context, sc *Scenario) []Failure {
	s := r.eng.Snapshot()
	current, curErr := r.currentSession(ctx)
	var out []Failure
	for _, x := range sc.Expect {
		got, ok := r.holds(x, s, current, curErr)
		if !ok {
			out = append(out, Failure{Expect: x.String(), Got: got, Line: x.Line})
		}
	}
	return out
}

// Referee is a client whose target can say which session its cookies hold
// without a request (the simulator looks): the answer get-session would
// give, with none of its effects.
type Referee interface {
	ServerSession(ctx context.Context) (string, error)
}

// currentSession asks the server which session the client's cookie holds
// now. It is the referee's question, not an observation by the client.
func (r *run) currentSession(ctx context.Context) (string, error) {
	if rf, ok := r.client.(Referee); ok {
		return rf.ServerSession(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.StepTimeout)
	defer cancel()
	sess, err := r.client.GetSession(ctx)
	if err != nil {
		return "", err
	}
	if sess == nil {
		return "", nil
	}
	return sess.ID, nil
}

var labelRE = regexp.MustCompile(`^S[1-9][0-9]*$`)

// matches reports whether a token bound to session id (""= no token)
// matches the selector.
func matches(sel, id string, s authstate.Snapshot, current string) bool {
	switch {
	case sel == "none":
		return id == ""
	case sel == "current":
		return id != "" && id == current
	case labelRE.MatchString(sel):
		return id != "" && s.Label(id) == sel
	}
	return false
}

func describeSel(sel string, s authstate.Snapshot, current string) string {
	switch sel {
	case "current":
		if current == "" {
			return "the current session (the server has none for this client)"
		}
		return fmt.Sprintf("the current session (%s)", s.Label(current))
	case "none":
		return "no token"
	}
	return sel
}

func describeToken(t *authstate.Token, s authstate.Snapshot, current string) string {
	if t == nil {
		return "no token"
	}
	l := s.Label(t.SessionID)
	var notes []string
	if t.SessionID != current {
		if current == "" {
			notes = append(notes, "the server has no session for this client")
		} else {
			notes = append(notes, fmt.Sprintf("stale: the current session is %s", s.Label(current)))
		}
	}
	if t.ExpiredAt(s.Now, 0) {
		notes = append(notes, "expired")
	}
	out := l + "'s token"
	if len(notes) > 0 {
		out += " (" + strings.Join(notes, "; ") + ")"
	}
	return out
}

func (r *run) holds(x Expectation, s authstate.Snapshot, current string, curErr error) (string, bool) {
	needsCurrent := x.Session == "current" || x.NotSession == "current" || x.CacheSession == "current" || x.CacheNotSession == "current" || x.SignedIn != nil
	if needsCurrent && curErr != nil {
		return "could not ask the server for the current session: " + curErr.Error(), false
	}
	switch {
	case x.Result != "":
		c, ok := s.Call(x.Result)
		if !ok {
			return fmt.Sprintf("fetch %s never ran", x.Result), false
		}
		if !c.Done {
			return fmt.Sprintf("fetch %s has not returned", x.Result), false
		}
		id := ""
		if c.Token != nil {
			id = c.Token.SessionID
		}
		got := fmt.Sprintf("%s returned %s", x.Result, describeToken(c.Token, s, current))
		if c.Token == nil && c.Err != "" {
			got += " (" + c.Err + ")"
		}
		if c.Source != "" {
			got += " via " + sourceWords(c)
		}
		return selectorHolds(got, id, x.Session, x.NotSession, s, current)
	case x.TokenRequests != nil:
		if x.TokenRequests.holds(s.TokenRequests) {
			return "", true
		}
		return fmt.Sprintf("the client sent %d token request(s)", s.TokenRequests), false
	case x.HasCache:
		id := ""
		if s.Cache != nil {
			id = s.Cache.SessionID
		}
		got := "the cache holds " + describeToken(s.Cache, s, current)
		return selectorHolds(got, id, x.CacheSession, x.CacheNotSession, s, current)
	case x.Flicker != nil:
		f := s.Flicker
		got := fmt.Sprintf("%d flicker window(s), %d ms in all", f.Count, f.Total.Milliseconds())
		if len(f.Windows) > 0 && f.Windows[0].Why != "" {
			got += "; first: " + f.Windows[0].Why
		}
		ok := (x.Flicker.MaxWindows == nil || f.Count <= *x.Flicker.MaxWindows) && (x.Flicker.MaxMS == nil || f.Total.Milliseconds() <= int64(*x.Flicker.MaxMS))
		return got, ok
	case x.Authenticated != nil:
		c := s.Convex
		if c.IsAuthenticated == *x.Authenticated {
			return "", true
		}
		return fmt.Sprintf("useConvexAuth: isLoading=%v isAuthenticated=%v (auth manager %s, socket %s, query %s)", c.IsLoading, c.IsAuthenticated, c.AuthState, c.Socket, resultWord(c.LastResult)), false
	case x.AnonymousQueries != nil:
		n := s.Convex.AnonymousQueries
		if n <= *x.AnonymousQueries {
			return "", true
		}
		return fmt.Sprintf("the query ran %d time(s) with no identity (Authenticate None from clearAuth)", n), false
	case x.SocketStopped != nil:
		c := s.Convex
		if (c.Socket == "stopped") == *x.SocketStopped {
			return "", true
		}
		return fmt.Sprintf("the Convex client's socket is %s (auth manager %s, useConvexAuth isAuthenticated=%v)", c.Socket, c.AuthState, c.IsAuthenticated), false
	case x.SignedIn != nil:
		if (current != "") == *x.SignedIn {
			return "", true
		}
		if current == "" {
			return "the server has no session for the client's cookies", false
		}
		return fmt.Sprintf("the server still has a session for the client's cookies (%s)", s.Label(current)), false
	case x.NoViolations:
		if len(s.Violations) == 0 {
			return "", true
		}
		msg := fmt.Sprintf("%d violation(s); first: %s", s.ViolationCount, s.Violations[0].Detail)
		return msg, false
	}
	return "nothing to check", false
}

// selectorHolds checks a token bound to session id against session: SEL
// (or not_session: NOT); got describes what was found, for the message.
func selectorHolds(got, id, sel, not string, s authstate.Snapshot, current string) (string, bool) {
	if sel != "" {
		if matches(sel, id, s, current) {
			return "", true
		}
		return got + "; expected " + describeSel(sel, s, current), false
	}
	if !matches(not, id, s, current) {
		return "", true
	}
	return got + "; expected anything but " + describeSel(not, s, current), false
}

func resultWord(r *authstate.QueryResult) string {
	if r == nil {
		return "not run"
	}
	return r.String()
}

func sourceWords(c authstate.Call) string {
	switch c.Source {
	case "cache":
		return "the cache"
	case "joined":
		return fmt.Sprintf("joining request #%d", c.Fetch)
	case "fetch":
		return fmt.Sprintf("request #%d", c.Fetch)
	}
	return c.Source
}
