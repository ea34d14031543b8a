package explore

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestSmoke(t *testing.T) {
	if os.Getenv("SMOKE") == "" {
		t.Skip()
	}
	sd, err := LoadSeed("../scenarios/explore/" + os.Getenv("SMOKE") + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	reps := Explore(context.Background(), []*Seed{sd}, Options{Policies: []string{os.Getenv("POL")}, MaxSchedules: 3000, Walks: -1})
	for _, r := range reps {
		t.Logf("%+v in %s", r.Stats, time.Since(began))
		for _, f := range r.Failures {
			t.Logf("%s %s: %v", f.Policy, f.Property, f.Why)
			for _, st := range f.Minimal {
				t.Logf("    %s", st)
			}
		}
	}
}
