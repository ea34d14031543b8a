package authstate

import (
	"fmt"
	"time"
)

// Checker watches the event stream and reports broken invariants. It works
// from events alone, so it can check a live engine or a recorded trace.
//
// Invariants:
//   - gone-session: a call was served a token bound to a session the client
//     already knew had rotated away or ended;
//   - unverified: a call was served a token whose signature or claims did
//     not check out against the server's JWKS (alg none, an unknown key, a
//     JWKS that could not be fetched, an expired token…);
//   - expired: a call was served a token past its exp;
//   - late-overwrite: a request wrote the cache after a newer request (or a
//     clear made after it started) had already written it;
//   - pending-clobber: a request's finally emptied the pending slot of
//     another request still in flight.
type Checker struct {
	// gone maps a session label to the label of what replaced it, or
	// "none". Events name sessions by label, unique within a run.
	gone map[string]string
	// newest is the highest request number whose effect the cache reflects:
	// the last writer, or every request started before the last clear.
	newest    int
	started   int
	whoNewest string
	// skew estimates the server's clock from the iat of the latest verified
	// token, like the engine does.
	skew time.Duration
}

// NewChecker returns a checker with no history.
func NewChecker() *Checker { return &Checker{gone: map[string]string{}} }

// Invariant names, used in violation events' Cause.
const (
	InvariantGoneSession    = "gone-session"
	InvariantUnverified     = "unverified"
	InvariantExpired        = "expired"
	InvariantLateOverwrite  = "late-overwrite"
	InvariantPendingClobber = "pending-clobber"
)

// Invariants lists every invariant name, in the order of the list above.
var Invariants = []string{InvariantGoneSession, InvariantUnverified, InvariantExpired, InvariantLateOverwrite, InvariantPendingClobber}

// Observe feeds one event and returns the violations it reveals.
func (c *Checker) Observe(ev Event) []Event {
	switch ev.Kind {
	case KindSessionRotated:
		if ev.From != "" {
			c.gone[ev.From] = ev.Session
		}
		delete(c.gone, ev.Session)
	case KindSessionEnded:
		if ev.From != "" {
			c.gone[ev.From] = "none"
		}
	case KindSessionObserved:
		delete(c.gone, ev.Session)
	case KindFetchResolved:
		if ev.Token != nil && ev.Token.Verified && !ev.Token.IssuedAt.IsZero() {
			c.skew = ev.Token.IssuedAt.Sub(ev.At)
		}
	case KindFetchStarted:
		if ev.Fetch > c.started {
			c.started = ev.Fetch
		}
	case KindCacheSet:
		if ev.Fetch != 0 && ev.Fetch < c.newest {
			v := violation(ev, InvariantLateOverwrite, fmt.Sprintf("late request #%d overwrote a newer cache value (%s)", ev.Fetch, c.whoNewest))
			c.mark(ev.Fetch)
			return []Event{v}
		}
		c.mark(ev.Fetch)
		if ev.Fetch != 0 {
			c.whoNewest = fmt.Sprintf("written by request #%d", ev.Fetch)
		}
	case KindCacheCleared:
		if ev.Fetch != 0 {
			if ev.Fetch < c.newest {
				c.mark(ev.Fetch)
				return []Event{violation(ev, InvariantLateOverwrite, fmt.Sprintf("late request #%d cleared a newer cache value (%s)", ev.Fetch, c.whoNewest))}
			}
			c.mark(ev.Fetch)
			c.whoNewest = fmt.Sprintf("cleared by request #%d", ev.Fetch)
			return nil
		}
		// A clear by an effect or a rotation check is newer than every
		// request already started.
		if c.started > c.newest {
			c.newest = c.started
		}
		c.whoNewest = "cleared: " + ev.Reason
	case KindPendingCleared:
		if ev.Fetch != 0 && ev.Owner != 0 && ev.Fetch != ev.Owner {
			return []Event{violation(ev, InvariantPendingClobber, fmt.Sprintf("request #%d's finally cleared the pending slot of request #%d, which is still in flight", ev.Fetch, ev.Owner))}
		}
	case KindTokenServed:
		if ev.Token == nil {
			return nil
		}
		if to, ok := c.gone[ev.Token.Session]; ok {
			return []Event{violation(ev, InvariantGoneSession, fmt.Sprintf("served %s a token bound to %s, which the client already knows is gone (now %s)", ev.Call, ev.Token.Session, to))}
		}
		if !ev.Token.Verified {
			return []Event{violation(ev, InvariantUnverified, fmt.Sprintf("served %s a token that failed verification: %s", ev.Call, orNotVerified(ev.Token.Problem)))}
		}
		if now := ev.At.Add(c.skew); !ev.Token.ExpiresAt.IsZero() && !now.Before(ev.Token.ExpiresAt) {
			return []Event{violation(ev, InvariantExpired, fmt.Sprintf("served %s a token that expired %s before", ev.Call, now.Sub(ev.Token.ExpiresAt).Round(time.Second)))}
		}
	}
	return nil
}

func (c *Checker) mark(fetch int) {
	if fetch > c.newest {
		c.newest = fetch
	}
}

func violation(ev Event, invariant, msg string) Event {
	return Event{
		Kind:    KindViolation,
		Cause:   invariant,
		Call:    ev.Call,
		Fetch:   ev.Fetch,
		Owner:   ev.Owner,
		Session: ev.Session,
		Token:   ev.Token,
		Source:  ev.Source,
		Reason:  msg,
		Detail:  msg,
		At:      ev.At,
	}
}
