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
	"github.com/authscope/authscope/internal/secretscan"
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
		kinds := checkInputs(t, tr, 1)
		if kinds["start"] != 1 || kinds["fetch"] != 2 || kinds["action"] != 1 || kinds["token_fetch_done"] == 0 || kinds["hold"] == 0 {
			t.Fatalf("%s: inputs %v", pol, kinds)
		}
		if fs := secretscan.Data(path, raw, []secretscan.Secret{{Name: "the password", Value: "pw-never-written"}}); len(fs) > 0 {
			t.Fatalf("%s: %v", pol, fs)
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

// checkInputs checks device's input records: numbered 1, 2, 3… in file
// order, each a kind the engine's codec reads back, no complete JWT in
// any; a token_fetch_done's jwt keeps no signature. It returns how many
// of each kind there are.
func checkInputs(t *testing.T, tr *trace.Trace, device int) map[string]int {
	t.Helper()
	kinds := map[string]int{}
	var next uint64 = 1
	for _, e := range tr.Entries {
		if e.Input == nil || e.Input.DeviceNumber() != device {
			continue
		}
		in := e.Input
		if in.Seq != next {
			t.Fatalf("device %d: input at line %d has seq %d, want %d", device, e.Line, in.Seq, next)
		}
		next++
		if _, err := authstate.DecodeInput(in.Kind, in.Data); err != nil {
			t.Fatalf("line %d: %v", e.Line, err)
		}
		if secretscan.CompleteJWT(in.Data) {
			t.Fatalf("line %d holds a complete JWT", e.Line)
		}
		if in.Kind == "token_fetch_done" && strings.Contains(string(in.Data), `"jwt"`) && !strings.Contains(string(in.Data), trace.SignatureRemoved) {
			t.Fatalf("line %d: a token without its signature removed: %s", e.Line, in.Data)
		}
		kinds[in.Kind]++
	}
	return kinds
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

// The TUI's recorder writes every input and event of every device, in
// order, with the device number: the events as each engine's own log has
// them, the inputs numbered per device, each before the events it caused.
func TestTUIRecordWritesEveryDevice(t *testing.T) {
	o := simTUIOptions()
	o.Devices = 2
	o.record = filepath.Join(t.TempDir(), "session.jsonl")
	s, rec := openRecordedTUI(t, o)
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
	byDevice := map[int][]authstate.Event{}
	quiet := map[int]int{}
	for _, ev := range tr.Events() {
		if ev.Kind.Quiet() {
			// Quiet events feed the fold and are not in the engine's log;
			// the trace keeps them for replay.
			quiet[ev.DeviceNumber()]++
			continue
		}
		byDevice[ev.DeviceNumber()] = append(byDevice[ev.DeviceNumber()], ev.Event)
	}
	if quiet[1] == 0 || quiet[2] == 0 {
		t.Fatalf("no quiet events recorded (device 1: %d, device 2: %d): a replay could not fold the panels", quiet[1], quiet[2])
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
	// Inputs: each device's numbered 1, 2, 3…, device 1's key presses
	// among them, each before the events it caused.
	for dev := 1; dev <= 2; dev++ {
		kinds := checkInputs(t, tr, dev)
		if kinds["start"] != 1 || kinds["session_poll_done"] == 0 {
			t.Fatalf("device %d's inputs: %v", dev, kinds)
		}
	}
	fetchAt, startedAt := -1, -1
	for i, e := range tr.Entries {
		switch {
		case e.Input != nil && e.Input.DeviceNumber() == 1 && e.Input.Kind == "fetch" && fetchAt < 0:
			var in authstate.FetchCall
			if err := json.Unmarshal(e.Input.Data, &in); err != nil || in.Cause != "test" || in.Name == "" {
				t.Fatalf("fetch input %s: %v", e.Input.Data, err)
			}
			fetchAt = i
		case e.Event != nil && e.Event.DeviceNumber() == 1 && fetchAt >= 0 && startedAt < 0 && (e.Event.Kind == authstate.KindFetchStarted || e.Event.Kind == authstate.KindTokenServed || e.Event.Kind == authstate.KindFetchJoined) && e.Event.Call != "" && !strings.HasPrefix(e.Event.Cause, "convex"):
			startedAt = i
		}
	}
	if fetchAt < 0 || startedAt < fetchAt {
		t.Fatalf("the fetch input is entry %d, its first event entry %d", fetchAt, startedAt)
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

// The recorder sees each engine through its Config hooks. An engine that
// ran before the trace was attached did things the trace cannot hold:
// close says how many, and the trace holds nothing of them.
func TestTUIRecordSaysWhatItMissed(t *testing.T) {
	o := simTUIOptions()
	o.NoConsumer = true
	o.record = filepath.Join(t.TempDir(), "missed.jsonl")
	s := openSession(t, &o)
	stop := s.start(context.Background())
	settleAll(t, s)
	eng := s.devices[0].Engine
	eng.Fetch("", true, "test")
	settleAll(t, s)
	stop()
	total := eng.Log().Total() // events; the inputs come on top
	rec, err := s.record(o)
	if err != nil {
		t.Fatal(err)
	}
	err = rec.close()
	if err == nil || !strings.Contains(err.Error(), "the trace misses") || !strings.Contains(err.Error(), "before recording began") {
		t.Fatalf("close: %v", err)
	}
	var n uint64
	fmt.Sscanf(err.Error()[strings.Index(err.Error(), "misses"):], "misses %d", &n)
	if n <= total {
		t.Fatalf("close says %d missed, but the engine emitted %d events and applied inputs too: %v", n, total, err)
	}
	tr, rerr := trace.ReadFile(o.record)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if len(tr.Entries) != 0 {
		t.Fatalf("the trace holds %d records of what happened before it was opened", len(tr.Entries))
	}
}

// openRecordedTUI resolves o, opens its TUI session (closed when the test
// ends) and starts its recorder.
func openRecordedTUI(t *testing.T, o tuiOptions) (*tuiSession, *tuiRecorder) {
	t.Helper()
	s := openSession(t, &o)
	rec, err := s.record(o)
	if err != nil {
		t.Fatal(err)
	}
	return s, rec
}
