package pleskgate

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// What the docs name that is deliberately not a file of the repository,
// each with why a reader does not need it here.
var notInRepository = map[string]string{
	"../shared/plesk/xsd":         "Plesk's own XSDs, said to be outside the repository (PLESK_XSD_DIR)",
	"keys.json":                   "written by the command shown beside it",
	"artifacts/":                  "the browser test's screenshots, not committed",
	"bin/pleskgate":               "built by make build",
	"bin/plesksim":                "built by make build",
	"http/protobuf":               "not a path: an OTLP protocol value",
	"k8s.io/api":                  "not a path: a Go module",
	"encoding/xml":                "not a path: a Go standard-library package",
	"ghcr.io/pleskgate/pleskgate": "not a path: the image name the manifests use",
}

var (
	// [text](target): a Markdown link.
	mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	// `code`: an inline code span.
	codeSpan = regexp.MustCompile("`([^`\n]+)`")
	// A word that names a file by its extension, e.g. PROTOCOL.md or deploy/docker-compose.yml.
	fileWord = regexp.MustCompile(`(?:^|[\s(])((?:\.{0,2}/)?[\w.-]+(?:/[\w.-]+)*\.(?:md|ya?ml|json|go|sh|mjs|ts|xsd|mod))\b`)
	// Inside a code span: a path with a slash, or a file name with an extension.
	pathLike = regexp.MustCompile(`^(?:\.{0,2}/)?[\w.-]+(?:/[\w.{}-]*)+$|^[\w.-]+\.(?:md|ya?ml|json|go|sh|mjs|ts|mod)$`)
)

// docPaths returns the relative links and file paths a Markdown text
// mentions: link targets, code spans that look like paths, and words that
// name a file (PROTOCOL.md, deploy/docker-compose.yml). URLs, absolute URL
// paths (/docs/, /clients/{id}) and anchors are not files.
func docPaths(text string) []string {
	var out []string
	add := func(p string) {
		p = strings.TrimRight(p, ".,;:")
		if p == "" || strings.Contains(p, "://") || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "#") ||
			strings.HasPrefix(p, "mailto:") || strings.ContainsAny(p, "{}$*<>=@ ") {
			return
		}
		p, _, _ = strings.Cut(p, "#")
		out = append(out, p)
	}
	for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
		add(m[1])
	}
	for _, m := range codeSpan.FindAllStringSubmatch(text, -1) {
		if pathLike.MatchString(m[1]) {
			add(m[1])
		}
	}
	for _, line := range strings.Split(text, "\n") {
		for _, m := range fileWord.FindAllStringSubmatch(line, -1) {
			add(m[1])
		}
	}
	return out
}

// Every relative link and file path README.md and deploy/README.md mention
// is a file or directory of the repository (relative to the document or to
// the repository's root, where their commands run): no "PROTOCOL.md §15" or
// "DESIGN.md §6" a reader of the repository cannot open.
func TestDocsNameOnlyFilesInTheRepository(t *testing.T) {
	for _, doc := range []string{"README.md", "deploy/README.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		paths := docPaths(string(b))
		if len(paths) == 0 {
			t.Fatalf("%s: no paths found: the extractor is broken", doc)
		}
		for _, p := range paths {
			if _, ok := notInRepository[p]; ok {
				continue
			}
			if exists(filepath.Join(filepath.Dir(doc), p)) || exists(p) {
				continue
			}
			t.Errorf("%s mentions %q, which is not in the repository", doc, p)
		}
	}
}

func exists(p string) bool {
	_, err := os.Stat(filepath.FromSlash(p))
	return err == nil
}

// The extractor finds the kinds of mention a dangling reference takes.
func TestDocPathsFindsMentions(t *testing.T) {
	text := "as recorded servers do (PROTOCOL.md §15; `plesksim/doc.go` tags it), see [the design](../DESIGN.md#x),\n" +
		"`go run ./cmd/pleskgate`, `/clients/{id}`, http://localhost:8080/docs/ and deploy/docker-compose.yml."
	got := strings.Join(docPaths(text), " ")
	for _, want := range []string{"PROTOCOL.md", "plesksim/doc.go", "../DESIGN.md", "deploy/docker-compose.yml"} {
		if !strings.Contains(" "+got+" ", " "+want+" ") {
			t.Errorf("docPaths missed %q: %v", want, got)
		}
	}
	for _, not := range []string{"/clients/{id}", "localhost:8080/docs/"} {
		if strings.Contains(got, not) {
			t.Errorf("docPaths took %q for a file: %v", not, got)
		}
	}
}
