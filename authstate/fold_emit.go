package authstate

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// foldReport is what the engine last told a fold through quiet events,
// so that it reports only changes.
type foldReport struct {
	client    ClientState
	clientOK  bool
	clientTok *Token
	// afterMessage, if set, runs on the loop once each message that may
	// have changed the state has been handled (tests compare the fold with
	// the engine there).
	afterMessage func()
	check        *foldChecker
}

// endOfMessage runs on the loop after each message that may have changed
// the state: the Convex client model's state goes out as a convex_state
// event if it changed.
func (e *Engine) endOfMessage() {
	if c := e.consumer; c != nil {
		e.reportClient(c)
	}
	if f := e.report.afterMessage; f != nil {
		f()
	}
}

func (e *Engine) reportClient(c *consumer) {
	st := c.snapshot()
	r := &e.report
	cs := ClientState{
		Loading: st.IsLoading, Authenticated: st.IsAuthenticated, Refreshing: st.IsRefreshing,
		AuthState: st.AuthState, ConfigVersion: st.ConfigVersion, IdentityVersion: st.IdentityVersion,
		Socket: st.Socket, LastResult: st.LastResult, Anonymous: st.AnonymousQueries,
	}
	if r.clientOK && c.auth == r.clientTok && sameClient(cs, r.client) {
		return
	}
	cs.Auth = e.tokenInfo(c.auth)
	r.client, r.clientOK, r.clientTok = cs, true, c.auth
	e.emit(Event{Kind: KindConvexState, Client: &cs})
}

// sameClient compares everything but Auth, which the caller compares by
// identity.
func sameClient(a, b ClientState) bool {
	ra, rb := a.LastResult, b.LastResult
	if (ra == nil) != (rb == nil) || (ra != nil && *ra != *rb) {
		return false
	}
	a.LastResult, b.LastResult, a.Auth, b.Auth = nil, nil, nil, nil
	return a == b
}

// decodedJWT is a JWT's header and payload as JSON, without its signature.
type decodedJWT struct {
	header, claims json.RawMessage
}

// recentToken remembers the last token described, so that serving the same
// cached token again costs no hashing.
type recentToken struct {
	t   *Token
	fp  string
	dec decodedJWT
}

// decodeJWT decodes the first two parts of a compact JWT. Anything that is
// not one gives nothing: the signature is never kept.
func decodeJWT(raw string) decodedJWT {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return decodedJWT{}
	}
	part := func(s string) json.RawMessage {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil || !json.Valid(b) {
			return nil
		}
		return json.RawMessage(b)
	}
	return decodedJWT{header: part(parts[0]), claims: part(parts[1])}
}
