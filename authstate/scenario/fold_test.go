package scenario_test

import (
	"context"
	"testing"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
)

// Views are folds: every shipped scenario, under every policy, against
// the simulator, with the engine comparing a fold of its own event stream
// with its state after every message it handles. The first difference
// names the field and the event before it.
func TestScenariosViewsAreFolds(t *testing.T) {
	total := 0
	for _, sc := range loadAll(t) {
		for _, pol := range authstate.PolicyNames() {
			res := scenario.Run(context.Background(), &target.Sim{}, sc, pol, scenario.Options{CheckFold: true})
			if res.Skipped {
				continue
			}
			if res.FoldError != "" {
				t.Errorf("%s under %s: the fold differs from the engine %s", sc.Name, pol, res.FoldError)
			}
			if res.FoldChecked == 0 {
				t.Errorf("%s under %s: no message was compared", sc.Name, pol)
			}
			total += res.FoldChecked
		}
	}
	t.Logf("%d engine messages compared", total)
}
