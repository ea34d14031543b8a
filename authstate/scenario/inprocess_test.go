package scenario_test

import (
	"reflect"
	"regexp"
	"testing"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
)

// A run against the in-process simulator gives, event for event and field
// for field on virtual time, what the same run gives against the simulator
// on a loopback socket, for every shipped scenario under every policy, with
// the same verdict.
func TestInProcessSimulatorMatchesTCP(t *testing.T) {
	for _, alg := range []string{"EdDSA", "RS256"} {
		tcp, inproc := &target.Sim{Alg: alg, TCP: true}, &target.Sim{Alg: alg}
		for _, sc := range loadAll(t) {
			if alg == "RS256" && testing.Short() {
				break
			}
			for _, pol := range authstate.PolicyNames() {
				want, wres := recordRun(t, tcp, sc, pol)
				got, gres := recordRun(t, inproc, sc, pol)
				if wres.Skipped || gres.Skipped {
					t.Errorf("%s under %s (%s): skipped over TCP %v, in-process %v", sc.Name, pol, alg, wres.Skipped, gres.Skipped)
					continue
				}
				if len(want) == 0 {
					t.Fatalf("%s under %s (%s): no events over TCP", sc.Name, pol, alg)
				}
				if d := firstDifference(want, got); d != "" {
					t.Errorf("%s under %s (%s): in-process differs from TCP: %s", sc.Name, pol, alg, d)
				}
				if wres.Passed != gres.Passed || wres.Events != gres.Events || wres.TargetError != gres.TargetError || !reflect.DeepEqual(wallFree(wres.Failures), wallFree(gres.Failures)) {
					t.Errorf("%s under %s (%s): results differ:\n  TCP:        %+v\n  in-process: %+v", sc.Name, pol, alg, wres, gres)
				}
			}
		}
	}
}

// wallMS is a length of wall-clock time in a failure's text (a flicker
// window's), which differs from run to run on any transport.
var wallMS = regexp.MustCompile(`\d+ ms\b`)

func wallFree(fs []scenario.Failure) []scenario.Failure {
	out := make([]scenario.Failure, len(fs))
	for i, f := range fs {
		f.Got = wallMS.ReplaceAllString(f.Got, "N ms")
		out[i] = f
	}
	return out
}
