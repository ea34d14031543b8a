package scenario_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/authscope/authscope/authstate/scenario"
)

// shippedFiles lists the scenario files in scenarios/.
func shippedFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenario files found: %v", err)
	}
	return files
}

// TestShippedScenarioTextNotCutByComment checks that no shipped scenario's
// name, description or reference loses text to a YAML comment: an unquoted
// " #83" ends a plain scalar, so "PR #83" would be shown as "PR".
func TestShippedScenarioTextNotCutByComment(t *testing.T) {
	for _, f := range shippedFiles(t) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := scenario.Load(f)
		if err != nil {
			t.Fatalf("load %s: %v", f, err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(raw, &doc); err != nil || len(doc.Content) == 0 {
			t.Fatalf("%s: %v", f, err)
		}
		root := doc.Content[0]
		for i := 0; i+1 < len(root.Content); i += 2 {
			k, v := root.Content[i], root.Content[i+1]
			switch k.Value {
			case "name", "description", "reference":
			default:
				continue
			}
			if v.LineComment != "" || k.LineComment != "" {
				t.Errorf("%s:%d: %s loses %q to a YAML comment; quote the value", filepath.Base(f), v.Line, k.Value, v.LineComment+k.LineComment)
			}
		}
		// The name as shown must be the whole text written after "name:".
		for _, line := range strings.Split(string(raw), "\n") {
			rest, ok := strings.CutPrefix(line, "name:")
			if !ok {
				continue
			}
			written := strings.TrimSpace(rest)
			if len(written) >= 2 && (written[0] == '"' || written[0] == '\'') && written[len(written)-1] == written[0] {
				written = written[1 : len(written)-1]
			}
			if sc.Name != written {
				t.Errorf("%s: name is shown as %q, but the file says %q", filepath.Base(f), sc.Name, written)
			}
		}
	}
}

// casesAnchors returns the anchors of docs/cases.md: the explicit
// <a id="…"></a> ones, and the ones GitHub derives from each heading.
func casesAnchors(t *testing.T, doc string) map[string]bool {
	t.Helper()
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`<a id="([^"]+)"></a>`).FindAllStringSubmatch(doc, -1) {
		anchors[m[1]] = true
	}
	drop := regexp.MustCompile(`[^a-z0-9 _-]`)
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.TrimSpace(strings.TrimLeft(line, "#"))
		h = drop.ReplaceAllString(strings.ToLower(h), "")
		anchors[strings.ReplaceAll(h, " ", "-")] = true
	}
	return anchors
}

// TestShippedScenariosPointIntoCases checks that every shipped scenario's
// reference: is a link to an existing anchor of docs/cases.md, and that
// docs/cases.md names every scenario file, so a reader can go both ways.
func TestShippedScenariosPointIntoCases(t *testing.T) {
	raw, err := os.ReadFile("../../docs/cases.md")
	if err != nil {
		t.Fatalf("docs/cases.md: %v", err)
	}
	doc := string(raw)
	anchors := casesAnchors(t, doc)
	for _, m := range regexp.MustCompile(`\]\(#([^)]+)\)`).FindAllStringSubmatch(doc, -1) {
		if !anchors[m[1]] {
			t.Errorf("docs/cases.md links to #%s, which it does not have", m[1])
		}
	}
	for _, f := range shippedFiles(t) {
		sc, err := scenario.Load(f)
		if err != nil {
			t.Fatalf("load %s: %v", f, err)
		}
		base := filepath.Base(f)
		if !strings.Contains(doc, "scenarios/"+base) {
			t.Errorf("docs/cases.md does not mention scenarios/%s", base)
		}
		ref := strings.Fields(sc.Reference)
		if len(ref) == 0 {
			t.Errorf("%s: no reference; want docs/cases.md#<anchor>", base)
			continue
		}
		if !strings.HasPrefix(ref[0], "docs/cases.md#") {
			t.Errorf("%s: reference %q does not start with docs/cases.md#<anchor>", base, sc.Reference)
			continue
		}
		for _, w := range ref {
			anchor, ok := strings.CutPrefix(strings.TrimRight(w, ",;"), "docs/cases.md#")
			if ok && !anchors[anchor] {
				t.Errorf("%s: reference %q points at #%s, which docs/cases.md does not have", base, sc.Reference, anchor)
			}
		}
	}
}
