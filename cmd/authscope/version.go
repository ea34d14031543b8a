package main

import (
	"runtime/debug"
	"strings"
)

// versionLine is what `authscope version` prints: the version set at build
// time (or the module version of `go install …@vX`), and the commit the Go
// toolchain stamped into the binary, with its time and whether the tree
// had uncommitted changes.
func versionLine(set string, info *debug.BuildInfo, ok bool) string {
	v := set
	if !ok || info == nil {
		return "authscope " + v
	}
	if v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	var rev, when string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	var extra []string
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		extra = append(extra, "commit "+rev)
	}
	if when != "" {
		extra = append(extra, when)
	}
	if modified {
		extra = append(extra, "with uncommitted changes")
	}
	if info.GoVersion != "" {
		extra = append(extra, info.GoVersion)
	}
	if len(extra) == 0 {
		return "authscope " + v
	}
	return "authscope " + v + " (" + strings.Join(extra, ", ") + ")"
}
