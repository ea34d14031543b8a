// Package explore searches the interleavings of a seed scenario's
// operations with the network (held requests and responses, the order in
// which they are let go, one optional fault) for schedules under which a
// token-cache policy breaks a property that holds for a correct client. It
// shrinks each failure to a minimal schedule and writes it as an ordinary
// scenario file.
//
// Every schedule is a generated scenario, run with scenario.Run, so the
// explorer gets faster whenever scenario runs do.
package explore

import (
	"fmt"
	"slices"

	"github.com/authscope/authscope/authstate"

	"github.com/authscope/authscope/authstate/scenario"
)

// Seed is a seed scenario: a scenario header (name, description, start,
// buggy) and the operations whose interleavings with the network are
// explored. Fetches and the fault float: the explorer places them anywhere.
// The other operations keep the seed's order.
type Seed struct {
	Scenario *scenario.Scenario
	// Fixed are the operations other than fetch and fault, in order.
	Fixed []scenario.Step
	// Plain and Forced count the fetches.
	Plain, Forced int
	// Fault is the seed's one fault, if any.
	Fault *scenario.Fault
}

// LoadSeed reads a seed file. It is an ordinary scenario file, so it also
// runs with `authscope run` (its steps in the order written).
func LoadSeed(path string) (*Seed, error) {
	sc, err := scenario.Load(path)
	if err != nil {
		return nil, err
	}
	return NewSeed(sc)
}

// NewSeed checks a parsed scenario as a seed: its steps may only be
// operations (fetch, rotate, change_password, observe, sign_out, sign_in,
// query, wait) and at most one fault, on the token, get-session,
// change-password or query endpoint.
func NewSeed(sc *scenario.Scenario) (*Seed, error) {
	s := &Seed{Scenario: sc}
	for _, st := range sc.Steps {
		switch st.Op {
		case scenario.OpFetch:
			if st.Force {
				s.Forced++
			} else {
				s.Plain++
			}
		case scenario.OpFault:
			if s.Fault != nil {
				return nil, seedErr(sc, st, "a seed has at most one fault")
			}
			switch st.Fault.Endpoint {
			case "token", "get-session", "change-password", "query":
			default:
				return nil, seedErr(sc, st, "the explorer places faults on token, get-session, change-password and query: a failed sign-in or sign-out changes whether the client should end signed in, which the oracle reads from the seed's steps")
			}
			f := st.Fault
			s.Fault = &f
		case scenario.OpRotate, scenario.OpChangePassword, scenario.OpObserve, scenario.OpSignOut, scenario.OpSignIn, scenario.OpQuery:
			s.Fixed = append(s.Fixed, scenario.Step{Op: st.Op})
		case scenario.OpWait:
			// Time passing (a laptop asleep) is an operation too.
			s.Fixed = append(s.Fixed, scenario.Step{Op: st.Op, Wait: st.Wait})
		default:
			return nil, seedErr(sc, st, fmt.Sprintf("%s is not an operation a seed may name: the explorer chooses holds, releases, awaits and timing itself (want fetch, rotate, change_password, observe, sign_out, sign_in, query, wait, fault)", st.Op))
		}
	}
	if len(s.Fixed)+s.Plain+s.Forced == 0 {
		return nil, &scenario.ParseError{File: sc.File, Msg: "the seed names no operation"}
	}
	if len(s.Fixed)+s.Plain+s.Forced > maxOps {
		return nil, &scenario.ParseError{File: sc.File, Msg: fmt.Sprintf("the seed names more than %d operations; the space of their interleavings is too large to search", maxOps)}
	}
	return s, nil
}

// maxOps bounds a seed's operations.
const maxOps = 12

func seedErr(sc *scenario.Scenario, st scenario.Step, msg string) error {
	return &scenario.ParseError{File: sc.File, Line: st.Line, Msg: msg}
}

// buggy reports whether the seed lists a policy or variant under buggy:
// the variant as it runs on this seed (a switch the seed's start turns on
// anyway, or +pr83 without the Convex client, makes no difference).
func (s *Seed) buggy(name string) bool {
	v, err := authstate.ParseVariant(name)
	if err != nil {
		return slices.Contains(s.Scenario.Buggy, name)
	}
	return slices.Contains(s.Scenario.Buggy, s.Scenario.Effective(v).String())
}

// signedInAfter says whether the client should be signed in once steps
// have run: the last sign-in or sign-out decides, else the start.
func (s *Seed) signedInAfter(steps []scenario.Step) bool {
	in := s.Scenario.Start.SignedIn
	for _, st := range steps {
		switch st.Op {
		case scenario.OpSignIn:
			in = true
		case scenario.OpSignOut:
			in = false
		}
	}
	return in
}
