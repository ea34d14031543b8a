package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/trace"
)

// FuzzHTML: any strings and any order of kinds give a report with no
// panic, no second script element, and no complete JWT.
func FuzzHTML(f *testing.F) {
	f.Add("S1", "detail", "reason", "call", uint8(6), uint8(8), int64(0))
	f.Add("<script>alert(1)</script>", "</svg><script>x()</script>", "eyJa.eyJb.c2ln", `"'><`, uint8(16), uint8(24), int64(-5e9))
	f.Add("", "", "", "", uint8(0), uint8(255), int64(1<<62))
	f.Fuzz(func(t *testing.T, session, detail, reason, call string, k1, k2 uint8, gap int64) {
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		tr := &trace.Trace{Header: trace.Header{Scenario: detail, Policy: session, Warning: reason, Secrets: len(call)%2 == 1}}
		for i := range 12 {
			kind := authstate.Kind(k1)
			if i%2 == 1 {
				kind = authstate.Kind(k2)
			}
			ev := authstate.Event{Seq: uint64(i), At: at.Add(time.Duration(gap) * time.Duration(i)), Kind: kind,
				Session: session, From: reason, Fetch: i % 3, Call: call, Cause: reason, Reason: reason, Detail: detail}
			if i%3 == 0 {
				ev.Token = &authstate.TokenInfo{Session: session, Problem: detail}
				ev.Convex = &authstate.ConvexFlags{Loading: i%2 == 0}
			}
			tr.Entries = append(tr.Entries, trace.Entry{Event: &trace.Event{Event: ev, Device: i % 3}})
		}
		var b bytes.Buffer
		if err := HTML(&b, tr); err != nil {
			t.Fatal(err)
		}
		html := b.String()
		if n := strings.Count(html, "<script"); n != 1 {
			t.Fatalf("%d script elements", n)
		}
		if m := jwtPattern.FindString(html); m != "" {
			t.Fatalf("a complete JWT in the report: %q", m)
		}
	})
}
