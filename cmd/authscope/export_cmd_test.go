package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
	"github.com/authscope/authscope/trace"
)

// writeTrace runs a scenario against the simulator and writes its events
// as a trace file (format version 1: a header line, then event lines).
func writeTrace(t *testing.T, dir, name, policy string) string {
	t.Helper()
	sc, err := scenario.Load("../../scenarios/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	start := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	if err := enc.Encode(trace.Header{Type: trace.TypeHeader, Version: trace.Version, Authscope: "test", Command: "run", Policy: policy, Scenario: name + ".yaml", Target: trace.Target{Kind: "sim"}, Started: start}); err != nil {
		t.Fatal(err)
	}
	res := scenario.Run(context.Background(), &target.Sim{}, sc, policy, scenario.Options{Start: start, OnEvent: func(ev authstate.Event) {
		if err := enc.Encode(ev); err != nil {
			t.Error(err)
		}
	}})
	if res.Err != "" {
		t.Fatal(res.Err)
	}
	path := filepath.Join(dir, name+".trace")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// leftovers lists the files of dir other than those named.
func leftovers(t *testing.T, dir string, keep ...string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !strings.Contains(strings.Join(keep, "\x00"), e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestExportHTML(t *testing.T) {
	dir := t.TempDir()
	tr := writeTrace(t, dir, "01-late-fetch-overwrite", "v0.12")
	out := filepath.Join(dir, "report.html")
	code, stdout, stderr := runCLI(t, "", "export", tr, "--html", out)
	if code != exitOK {
		t.Fatalf("exit %d, want 0: %s", code, stderr)
	}
	if want := "wrote HTML report " + out + " ("; !strings.Contains(stdout, want) || !strings.Contains(stdout, " events, 2 violations, 0 flicker windows)") {
		t.Errorf("stdout %q lacks %q", stdout, want)
	}
	html, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", "01-late-fetch-overwrite.yaml under v0.12", "VIOLATION stale token served", `<svg id="lanes"`, `id="filter-text"`} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
	if extra := leftovers(t, dir, "01-late-fetch-overwrite.trace", "report.html"); len(extra) > 0 {
		t.Errorf("export left files behind: %v", extra)
	}

	// Overwriting an existing report works.
	if code, _, stderr := runCLI(t, "", "export", tr, "--html", out); code != exitOK {
		t.Fatalf("second export: exit %d: %s", code, stderr)
	}
}

// A trace with unreadable lines is exported with what could be read, and
// the command says which line it skipped.
func TestExportDamagedTrace(t *testing.T) {
	dir := t.TempDir()
	tr := writeTrace(t, dir, "03-rotation-in-flight", "v0.12")
	data, _ := os.ReadFile(tr)
	lines := strings.SplitAfter(string(data), "\n")
	lines[3] = "{garbage\n"
	if err := os.WriteFile(tr, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "r.html")
	code, _, stderr := runCLI(t, "", "export", tr, "--html", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "1 line(s) could not be read (first: line 4:") {
		t.Errorf("stderr does not name the bad line: %q", stderr)
	}
	html, _ := os.ReadFile(out)
	if !bytes.Contains(html, []byte("Lines of the trace that could not be read")) || !bytes.Contains(html, []byte("<li>line 4:")) {
		t.Error("the report does not say which line was skipped")
	}
}

func TestExportErrors(t *testing.T) {
	dir := t.TempDir()
	tr := writeTrace(t, dir, "01-late-fetch-overwrite", "v0.12")
	garbage := filepath.Join(dir, "garbage.trace")
	if err := os.WriteFile(garbage, []byte("not a trace\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no output", []string{"export", tr}, "export needs an output: --html OUT.html"},
		{"no trace", []string{"export", "--html", filepath.Join(dir, "x.html")}, "accepts 1 arg(s), received 0"},
		{"missing trace", []string{"export", filepath.Join(dir, "nope.trace"), "--html", filepath.Join(dir, "x.html")}, "read trace: open " + filepath.Join(dir, "nope.trace")},
		{"not a trace", []string{"export", garbage, "--html", filepath.Join(dir, "x.html")}, "read trace: " + garbage + ":1: not a trace"},
		{"output dir missing", []string{"export", tr, "--html", filepath.Join(dir, "no", "such", "dir", "x.html")}, "write HTML report: open " + filepath.Join(dir, "no", "such", "dir")},
		{"output is a directory", []string{"export", tr, "--html", dir}, "write HTML report: " + dir + " is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q lacks %q", stderr, tc.want)
			}
			if strings.Contains(stdout, "wrote") {
				t.Errorf("stdout claims a file was written: %q", stdout)
			}
		})
	}
	if extra := leftovers(t, dir, "01-late-fetch-overwrite.trace", "garbage.trace"); len(extra) > 0 {
		t.Errorf("failed exports left files behind: %v", extra)
	}
}
