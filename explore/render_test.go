package explore

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/authscope/authscope/authstate/scenario"
)

// TestRenderParsesToItsValue checks, for every schedule a search of the
// shipped seeds runs, that the scenario value a run uses is what
// scenario.Parse reads from the file the explorer would write: a minimal
// reproduction on disk is the schedule that failed.
func TestRenderParsesToItsValue(t *testing.T) {
	files, err := filepath.Glob("../scenarios/explore/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no seeds: %v", err)
	}
	var seeds []*Seed
	for _, f := range files {
		seeds = append(seeds, testSeed(t, filepath.Base(f[:len(f)-len(".yaml")])))
	}
	var mu sync.Mutex
	checked := 0
	var bad []string
	onRender = func(rd rendered) {
		sc, err := scenario.Parse("schedule.yaml", rd.text)
		mu.Lock()
		defer mu.Unlock()
		checked++
		if err != nil {
			bad = append(bad, fmt.Sprintf("does not parse: %v\n%s", err, rd.text))
			return
		}
		sc.File = ""
		if !reflect.DeepEqual(sc, rd.sc) {
			bad = append(bad, fmt.Sprintf("parsed:\n%+v\nbuilt:\n%+v\nfrom:\n%s", *sc, *rd.sc, rd.text))
		}
	}
	defer func() { onRender = nil }()
	// One policy is enough: the schedules are the seed's, whatever runs them.
	Explore(context.Background(), seeds, Options{Policies: []string{"v0.12"}, Depth: 2, Walks: 10})
	// A written reproduction has a description, a reference and a buggy
	// list too.
	s := seeds[0]
	onRender(s.render([]scenario.Step{{Op: scenario.OpFetch}, {Op: scenario.OpRotate}}, header{name: "n", description: "d: \"x\"", reference: "r", buggy: []string{"pr329+preserve+pr83", "v0.12"}, gotToken: []string{"f1"}}))
	if checked < 100 {
		t.Fatalf("only %d schedules checked", checked)
	}
	for i, b := range bad {
		if i == 3 {
			t.Errorf("… and %d more", len(bad)-3)
			break
		}
		t.Error(b)
	}
	t.Logf("%d schedules checked", checked)
}
