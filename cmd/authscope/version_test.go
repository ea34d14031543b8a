package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

// version names the commit the binary was built from, as the Go toolchain
// stamps it, not a bare "dev".
func TestVersionNamesTheCommit(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "3096237a1b2c3d4e5f60718293a4b5c6d7e8f901"},
		{Key: "vcs.time", Value: "2026-12-01T22:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	got := versionLine("dev", info, true)
	for _, want := range []string{"authscope dev", "commit 3096237a1b2c", "2026-12-01T22:00:00Z", "with uncommitted changes", "go1.26.0"} {
		if !strings.Contains(got, want) {
			t.Errorf("version %q lacks %q", got, want)
		}
	}
	// go install …@v1.2.3 stamps the module version, and no vcs settings.
	if got := versionLine("dev", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, true); got != "authscope v1.2.3" {
		t.Errorf("installed: %q", got)
	}
	// -ldflags -X wins over the module version.
	if got := versionLine("v2.0.0", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, true); got != "authscope v2.0.0" {
		t.Errorf("ldflags: %q", got)
	}
	if got := versionLine("dev", nil, false); got != "authscope dev" {
		t.Errorf("no build info: %q", got)
	}
	// Through the command: one line, starting with the name.
	code, out, _ := runCLI(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "authscope ") || strings.Count(out, "\n") != 1 {
		t.Fatalf("version: exit %d, %q", code, out)
	}
}
