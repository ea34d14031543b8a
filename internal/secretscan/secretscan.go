// Package secretscan looks for secrets in files authscope wrote: the
// values a test knows (a password, session tokens, cookie values) and any
// complete JWT (a header and claims that decode, and a signature).
package secretscan

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
)

// Secret is a value that must not appear, with a name to report it by (the
// value itself is never reported).
type Secret struct {
	Name  string
	Value string
}

// Finding is one secret found in one file.
type Finding struct {
	File string
	What string // the secret's name, or "a complete JWT"
	Line int
}

func (f Finding) String() string { return fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.What) }

// jwtLike matches three base64url parts; CompleteJWT decides.
var jwtLike = regexp.MustCompile(`[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}`)

// CompleteJWT reports whether s holds a JWT with its signature: three
// base64url parts, the first of which decodes to a JSON object with "alg".
func CompleteJWT(s []byte) bool {
	for _, m := range jwtLike.FindAll(s, -1) {
		head := m[:bytes.IndexByte(m, '.')]
		raw, err := base64.RawURLEncoding.DecodeString(string(head))
		if err != nil {
			continue
		}
		var h map[string]any
		if json.Unmarshal(raw, &h) == nil && h["alg"] != nil {
			return true
		}
	}
	return false
}

// Data scans one file's contents. Secrets shorter than 6 bytes are ignored
// (they would match by chance).
func Data(name string, data []byte, secrets []Secret) []Finding {
	var out []Finding
	line := func(i int) int { return bytes.Count(data[:i], []byte{'\n'}) + 1 }
	for _, s := range secrets {
		if len(s.Value) < 6 {
			continue
		}
		if i := bytes.Index(data, []byte(s.Value)); i >= 0 {
			out = append(out, Finding{File: name, What: s.Name, Line: line(i)})
		}
	}
	for _, m := range jwtLike.FindAllIndex(data, -1) {
		if CompleteJWT(data[m[0]:m[1]]) {
			out = append(out, Finding{File: name, What: "a complete JWT", Line: line(m[0])})
			break
		}
	}
	return out
}

// Dir scans every regular file under root and returns what it found, and
// how many files it read.
func Dir(root string, secrets []Secret) ([]Finding, int, error) {
	var out []Finding
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		out = append(out, Data(path, data, secrets)...)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out, n, err
}
