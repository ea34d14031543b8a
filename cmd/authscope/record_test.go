package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/fetcher/authsim"
	"github.com/authscope/authscope/trace"
)

// run --record DIR writes one trace per scenario × policy, and each reads
// back as the run went: the header says what ran where, the events are
// the ones --json printed, and under v0.12 the trace holds the stale token
// served to "second", the failure the result reports.
func TestRunRecordWritesATracePerRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "traces", "new") // created by --record
	code, out, errOut := runCLI(t, "", "run", "../../scenarios/03-rotation-in-flight.yaml", "--policy", "v0.12,pr329", "--record", dir, "--json", "--password", "pw-never-written")
	if code != exitFailed {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// The --json events, by policy; each carries the scenario and policy.
	printed := map[string][]authstate.Event{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Type     string `json:"type"`
			Scenario string `json:"scenario"`
			Policy   string `json:"policy"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		if line.Type != "event" {
			continue
		}
		if line.Scenario != "rotation while a fetch is in flight" || line.Policy == "" {
			t.Fatalf("event line without its scenario and policy: %s", sc.Text())
		}
		var ev trace.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		printed[line.Policy] = append(printed[line.Policy], ev.Event)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 2 {
		t.Fatalf("files %v", files)
	}
	for _, pol := range []string{"v0.12", "pr329"} {
		path := filepath.Join(dir, "03-rotation-in-flight."+pol+".jsonl")
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), "pw-never-written") || trace.ContainsJWT(string(raw)) {
			t.Fatal("the trace holds the password or a JWT")
		}
		tr, err := trace.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		h := tr.Header
		if len(tr.Problems) > 0 || h.Version != trace.Version || h.Command != "run" || h.Policy != pol || h.Scenario != "03-rotation-in-flight.yaml" ||
			h.Target.Kind != "sim" || h.Authscope == "" || h.Upstream["convex"] != "1.45.0" || h.Upstream["@convex-dev/better-auth"] != "0.12.5" || h.Started.IsZero() ||
			h.Options["signed_in"] != "true" || h.Options["consumer"] != "false" || h.Options["step_timeout"] != "10s" {
			t.Fatalf("%s: header %+v, problems %v", pol, h, tr.Problems)
		}
		evs := tr.Events()
		if len(evs) != len(printed[pol]) || len(evs) < 10 {
			t.Fatalf("%s: %d events in the trace, %d printed", pol, len(evs), len(printed[pol]))
		}
		var seq uint64
		for i, ev := range evs {
			// A logged event takes the next number; a quiet one (it feeds
			// the fold only) repeats the number of the event before it.
			if !ev.Kind.Quiet() {
				seq++
			}
			if ev.Seq != seq || ev.Device != 0 {
				t.Fatalf("%s: event %d (%s) has seq %d, want %d; device %d", pol, i, ev.Kind, ev.Seq, seq, ev.Device)
			}
			if !reflect.DeepEqual(ev.Event, printed[pol][i]) {
				t.Fatalf("%s: event %d differs from --json:\n%+v\n%+v", pol, i, ev.Event, printed[pol][i])
			}
		}
		served := servedTo(evs, "second")
		switch pol {
		case "v0.12":
			if served == nil || served.Session != "S1" || !served.Stale || served.Source != "joined" {
				t.Fatalf("v0.12: second was served %+v", served)
			}
			if v := tr.Violations(); len(v) == 0 || tr.Entries[v[0]].Event.Cause != "gone-session" {
				t.Fatalf("v0.12: violations at %v", v)
			}
		case "pr329":
			if served == nil || served.Session != "S2" || served.Stale || len(tr.Violations()) != 0 {
				t.Fatalf("pr329: second was served %+v; violations %v", served, tr.Violations())
			}
		}
	}
}

func servedTo(evs []trace.Event, call string) *trace.Event {
	for i := range evs {
		if evs[i].Kind == authstate.KindTokenServed && evs[i].Call == call {
			return &evs[i]
		}
	}
	return nil
}

// A directory that cannot be written is a usage error before any run.
func TestRunRecordUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, nil, 0o600)
	code, out, errOut := runCLI(t, "", "run", "../../scenarios/03-rotation-in-flight.yaml", "--policy", "pr329", "--record", file)
	if code != exitUsage || !strings.Contains(errOut, "--record "+file) || strings.Contains(out, "PASS") {
		t.Fatalf("exit %d, %q %q", code, out, errOut)
	}
	code, _, errOut = runCLI(t, "", "run", "../../scenarios/03-rotation-in-flight.yaml", "--record", filepath.Join(file, "sub"))
	if code != exitUsage || !strings.Contains(errOut, "--record") {
		t.Fatalf("exit %d, %q", code, errOut)
	}
}

// The TUI's recorder writes every event of every device, in order, with
// the device number, as each engine's own log has them.
func TestTUIRecordWritesEveryDevice(t *testing.T) {
	o := simTUIOptions()
	o.Devices = 2
	o.record = filepath.Join(t.TempDir(), "session.jsonl")
	if err := o.resolve(); err != nil {
		t.Fatal(err)
	}
	s, err := openTUISession(t.Context(), o, discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	rec, err := s.record(o)
	if err != nil {
		t.Fatal(err)
	}
	stop := s.start(context.Background())
	settleAll(t, s)
	d1, d2 := s.devices[0].Engine, s.devices[1].Engine
	d1.Fetch("", false, "test")
	d1.Do(authstate.ActionChangePassword, true)
	settleAll(t, s)
	d2.Observe("poll")
	settleAll(t, s)
	stop()
	if err := rec.close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(o.record)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), authsim.DefaultPassword) || trace.ContainsJWT(string(raw)) {
		t.Fatal("the trace holds the password or a JWT")
	}
	tr, err := trace.ReadFile(o.record)
	if err != nil {
		t.Fatal(err)
	}
	h := tr.Header
	if len(tr.Problems) > 0 || h.Command != "tui" || h.Devices != 2 || h.Policy != "pr329" || h.Target.Kind != "sim" || !strings.HasPrefix(h.Target.Host, "127.0.0.1:") || h.Options["consumer"] != "true" || h.Secrets {
		t.Fatalf("header %+v, problems %v", h, tr.Problems)
	}
	// The logged events are the engines' logs, in order; the quiet ones
	// (which a replay's fold needs) are there too.
	byDevice := map[int][]authstate.Event{}
	quiet := map[int]int{}
	for _, ev := range tr.Events() {
		if ev.Kind.Quiet() {
			quiet[ev.DeviceNumber()]++
			continue
		}
		byDevice[ev.DeviceNumber()] = append(byDevice[ev.DeviceNumber()], ev.Event)
	}
	if quiet[1] == 0 || quiet[2] == 0 {
		t.Fatalf("quiet events per device: %v; want some for both", quiet)
	}
	for i, eng := range []*authstate.Engine{d1, d2} {
		want := eng.Log().All()
		got := byDevice[i+1]
		if len(got) != len(want) || len(want) < 5 {
			t.Fatalf("device %d: %d events recorded, the engine has %d", i+1, len(got), len(want))
		}
		for k := range want {
			want[k].At = want[k].At.Round(0) // the file has no monotonic clock reading
			if !got[k].At.Equal(want[k].At) {
				t.Fatalf("device %d event %d at %v, engine %v", i+1, k, got[k].At, want[k].At)
			}
			got[k].At, want[k].At = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got[k], want[k]) {
				t.Fatalf("device %d event %d:\n%+v\n%+v", i+1, k, got[k], want[k])
			}
		}
	}
	// Device 2 saw its session end: the p on device 1 revoked it.
	ended := false
	for _, ev := range byDevice[2] {
		ended = ended || ev.Kind == authstate.KindSessionEnded
	}
	if !ended {
		t.Fatal("device 2's trace has no session_ended")
	}
}

// --record-secrets alone is a usage error; with --record the status line
// warns, in words, that the trace holds raw JWTs, and the header says so.
func TestTUIRecordSecrets(t *testing.T) {
	o := simTUIOptions()
	o.recordSecrets = true
	if err := o.resolve(); err == nil || !strings.Contains(err.Error(), "--record-secrets needs --record") {
		t.Fatalf("resolve: %v", err)
	}
	o.record = filepath.Join(t.TempDir(), "dir", "raw.jsonl")
	if err := o.resolve(); err != nil {
		t.Fatal(err)
	}
	if n := recordNotice(o); !strings.Contains(n, "warning: recording RAW JWTs to "+o.record) {
		t.Fatalf("notice %q", n)
	}
	o.demo = true
	if n := recordNotice(o); strings.Contains(n, filepath.Dir(o.record)) || !strings.Contains(n, "raw.jsonl") {
		t.Fatalf("demo notice %q", n)
	}
	s, err := openTUISession(t.Context(), o, discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	rec, err := s.record(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.close(); err != nil {
		t.Fatal(err)
	}
	tr, err := trace.ReadFile(o.record)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Header.Secrets || !tr.Header.Demo || tr.Header.Warning != trace.SecretsWarning {
		t.Fatalf("header %+v", tr.Header)
	}
}

// The recorder reads each engine's event stream from when it starts
// following: when that is after the engine emitted events, close says how
// many the trace missed, and the trace holds none of them.
func TestTUIRecordSaysWhatItMissed(t *testing.T) {
	o := simTUIOptions()
	o.NoConsumer = true
	o.record = filepath.Join(t.TempDir(), "missed.jsonl")
	if err := o.resolve(); err != nil {
		t.Fatal(err)
	}
	s, err := openTUISession(t.Context(), o, discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	eng, err := authstate.New(authstate.Config{Backend: s.devices[0].Transport.(authstate.Backend), Policy: "pr329", LogSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	eng.Start(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 3 {
		eng.Fetch("", true, "test")
		if err := eng.Settle(ctx, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	eng.Stop()
	total := eng.Log().Total()
	if total <= 4 {
		t.Fatalf("the engine emitted %d events, no more than its log holds", total)
	}
	rec, err := s.record(o)
	if err != nil {
		t.Fatal(err)
	}
	rec.follow(eng, 2)
	err = rec.close()
	if want := fmt.Sprintf("the trace missed %d events", total); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("close: %v, want %q", err, want)
	}
	tr, rerr := trace.ReadFile(o.record)
	if rerr != nil {
		t.Fatal(rerr)
	}
	var seqs []uint64
	for _, ev := range tr.Events() {
		if ev.DeviceNumber() == 2 {
			seqs = append(seqs, ev.Seq)
		}
	}
	if len(seqs) != 0 {
		t.Fatalf("device 2's events in the trace: %v, want none", seqs)
	}
}
