package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authscope/authscope/internal/realserver"
)

// Against the real Better Auth server, `run` works from a config file
// alone: target, credentials and the Convex URL all come from the file.
func TestRunFromConfigAgainstRealServer(t *testing.T) {
	srv := realserver.Start(t, realserver.Options{Alg: "EdDSA"})
	email, password := srv.SignUp(t)
	cfg := writeConfig(t, fmt.Sprintf("target: %s\nemail: %s\npassword: %s\nconvex:\n  url: %s\npolicy: v0.12,pr329\nstep_timeout: 15s\n",
		srv.BaseURL, email, password, srv.URL))
	code, out, errOut := runCLI(t, "", "run", "--config", cfg,
		"../../scenarios/03-rotation-in-flight.yaml", "../../scenarios/20-rotation-flicker.yaml")
	if code != exitFailed {
		t.Fatalf("exit %d (stderr %s)\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"rotation while a fetch is in flight  FAIL (reproduces)  PASS",
		"password change flickers the Convex client",
	} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "SKIP") {
		t.Errorf("the consumer scenario was skipped although the config names a Convex URL:\n%s", out)
	}
	if strings.Contains(out+errOut, password) {
		t.Error("the password was printed")
	}
}

// Against the real Better Auth server, the TUI works from a config file
// alone: it shows the real target and S1, p asks for confirmation (a real
// target), y rotates to S2 with the Convex panel following, q exits 0.
func TestTUIFromConfigAgainstRealServer(t *testing.T) {
	bin, dir := buildForTmux(t)
	srv := realserver.Start(t, realserver.Options{Alg: "RS256"})
	email, password := srv.SignUp(t)
	cfg := writeConfig(t, fmt.Sprintf("target: %s\nemail: %s\npassword: %s\nconvex:\n  url: %s\npoll_interval: 1s\nlog_file: %s\n",
		srv.BaseURL, email, password, srv.URL, filepath.Join(dir, "authscope.log")))
	s := startTmux(t, bin, dir, "--config", cfg)
	host := strings.TrimPrefix(srv.URL, "http://")
	s.waitScreen("first screen", host, "S1", "Convex authenticated")
	s.keys("p")
	s.waitScreen("confirmation", "Change the password on "+srv.BaseURL, "y yes")
	s.keys("y")
	s.waitScreen("after p", "S2 · id", "Convex flicker: 1 window")
	s.waitScreen("Convex recovered", "Convex authenticated")
	s.keys("q")
	s.waitExit(dir)
	logged, _ := os.ReadFile(filepath.Join(dir, "authscope.log"))
	if strings.Contains(string(logged), password) {
		t.Fatal("the log holds the password")
	}
}
