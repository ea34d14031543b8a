package target

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/fetcher"
)

// recorder is a scenario client that remembers the first failure of the
// target that no fault step asked for: a 5xx, a redirect, a garbage or
// oversized answer, a dropped connection or a timeout. A scenario run under
// such a failure says nothing about the policy, so the runner reports it as
// a connection error rather than a verdict. Faults the scenario injects are
// marked by the transport gates and are not recorded.
type recorder struct {
	*fetcher.Backend

	mu    sync.Mutex
	first error
}

func record(b *fetcher.Backend) *recorder { return &recorder{Backend: b} }

// TargetErr is the first unasked-for failure of the target, or nil.
func (r *recorder) TargetErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.first
}

func (r *recorder) note(err error) error {
	if err != nil && targetFault(err) {
		r.mu.Lock()
		if r.first == nil {
			r.first = err
		}
		r.mu.Unlock()
	}
	return err
}

// targetFault reports whether err is the target (or the network) failing,
// as opposed to an authoritative answer such as 401, the caller cancelling,
// or a fault a scenario step injected.
func targetFault(err error) bool {
	var he *fetcher.HTTPError
	var ne *fetcher.NetError
	switch {
	case errors.Is(err, fetcher.ErrInjected):
		return false
	case errors.As(err, &he):
		if he.Code == fetcher.InjectedCode {
			return false
		}
		return he.Status >= 500 || (he.Status >= 300 && he.Status < 400) || he.Status == http.StatusTooManyRequests
	case errors.As(err, &ne):
		return true
	}
	return errors.Is(err, fetcher.ErrBadResponse) || errors.Is(err, fetcher.ErrBodyTooLarge)
}

func (r *recorder) FetchToken(ctx context.Context) (*authstate.Token, error) {
	t, err := r.Backend.FetchToken(ctx)
	return t, r.note(err)
}

func (r *recorder) GetSession(ctx context.Context) (*authstate.Session, error) {
	s, err := r.Backend.GetSession(ctx)
	return s, r.note(err)
}

func (r *recorder) ChangePassword(ctx context.Context, revokeOthers bool) error {
	return r.note(r.Backend.ChangePassword(ctx, revokeOthers))
}

func (r *recorder) SignIn(ctx context.Context) error { return r.note(r.Backend.SignIn(ctx)) }

func (r *recorder) SignOut(ctx context.Context) error { return r.note(r.Backend.SignOut(ctx)) }

func (r *recorder) Query(ctx context.Context, path string, tok *authstate.Token) (authstate.QueryResult, error) {
	res, err := r.Backend.Query(ctx, path, tok)
	return res, r.note(err)
}
