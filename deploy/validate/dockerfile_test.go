package validate

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// dockerfile is the repository's Dockerfile as BuildKit's own front end
// parses it (the code `docker build` runs), with its build checks.
type dockerfile struct {
	stages   []instructions.Stage
	metaArgs map[string]string // ARG defaults before the first FROM
	lint     []string          // build-check warnings
}

var parsedDockerfile = sync.OnceValues(func() (*dockerfile, error) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		return nil, err
	}
	ast, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	df := &dockerfile{metaArgs: map[string]string{}}
	for _, w := range ast.Warnings {
		df.lint = append(df.lint, w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		df.lint = append(df.lint, fmt.Sprintf("line %d: %s: %s", line, rule, msg))
	}})
	stages, metaArgs, err := instructions.Parse(ast.AST, lint)
	if err != nil {
		return nil, err
	}
	df.stages = stages
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				df.metaArgs[kv.Key] = *kv.Value
			}
		}
	}
	return df, nil
})

func loadDockerfile(t *testing.T) *dockerfile {
	t.Helper()
	df, err := parsedDockerfile()
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	return df
}

// expand substitutes ${VAR} and $VAR from the meta ARGs, as FROM does.
func (df *dockerfile) expand(s string) string {
	return os.Expand(s, func(k string) string { return df.metaArgs[k] })
}

func commands[T instructions.Command](s instructions.Stage) []T {
	var out []T
	for _, c := range s.Commands {
		if v, ok := c.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// imageUID is the numeric user the final stage runs as.
func imageUID(t *testing.T) int {
	t.Helper()
	df := loadDockerfile(t)
	users := commands[*instructions.UserCommand](df.stages[len(df.stages)-1])
	if len(users) == 0 {
		t.Fatal("Dockerfile: the final stage has no USER")
	}
	user, _, _ := strings.Cut(users[len(users)-1].User, ":")
	uid, err := strconv.Atoi(user)
	if err != nil {
		t.Fatalf("Dockerfile: USER %q is not numeric (Kubernetes' runAsNonRoot can only verify a numeric uid)", user)
	}
	return uid
}

// makeBuildLines returns the recipe of the Makefile's build target with
// $(GO) as go, the lines the image build must run too.
func makeBuildLines(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	in := false
	for sc := bufio.NewScanner(f); sc.Scan(); {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "build:"):
			in = true
		case in && strings.HasPrefix(l, "\t"):
			lines = append(lines, strings.ReplaceAll(strings.TrimSpace(l), "$(GO)", "go"))
		case in:
			in = false
		}
	}
	if len(lines) == 0 {
		t.Fatal("Makefile: no build target recipe")
	}
	return lines
}

func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestDockerfileBuildChecks(t *testing.T) {
	for _, w := range loadDockerfile(t).lint {
		t.Errorf("Dockerfile build check: %s", w)
	}
}

func TestDockerfileBuildStage(t *testing.T) {
	df := loadDockerfile(t)
	if len(df.stages) < 2 {
		t.Fatalf("Dockerfile has %d stage(s); want a build stage and a small final stage", len(df.stages))
	}
	build := df.stages[0]
	base := df.expand(build.BaseName)

	// The builder's Go is the one go.mod asks for (major.minor).
	gomod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	if want := "golang:" + string(m[1]); !strings.HasPrefix(base, want) {
		t.Errorf("build stage FROM %s, want %s* to match go.mod", base, want)
	}

	var run []string
	for _, r := range commands[*instructions.RunCommand](build) {
		run = append(run, squash(strings.Join(r.CmdLine, " ")))
	}
	for _, l := range makeBuildLines(t) {
		want := squash(strings.ReplaceAll(l, " bin/", " /out/"))
		if !slices.ContainsFunc(run, func(r string) bool { return strings.Contains(r, want) }) {
			t.Errorf("the build stage does not run `make build`'s\n\t%s\n(as %q); RUN lines:\n\t%s", l, want, strings.Join(run, "\n\t"))
		}
	}
}

func TestDockerfileFinalStage(t *testing.T) {
	df := loadDockerfile(t)
	final := df.stages[len(df.stages)-1]
	base := df.expand(final.BaseName)
	if !strings.HasPrefix(base, "gcr.io/distroless/static") && base != "scratch" {
		t.Errorf("final stage FROM %s, want distroless static or scratch", base)
	}
	if uid := imageUID(t); uid == 0 {
		t.Error("final stage runs as root")
	} else if uid != 65532 {
		t.Errorf("final stage USER %d, want 65532 (distroless nonroot)", uid)
	}
	if runs := commands[*instructions.RunCommand](final); len(runs) > 0 {
		t.Error("final stage has RUN: it has no shell")
	}

	eps := commands[*instructions.EntrypointCommand](final)
	if len(eps) == 0 || eps[len(eps)-1].PrependShell || !slices.Equal(eps[len(eps)-1].CmdLine, []string{"/pleskgate"}) {
		t.Error(`final stage needs ENTRYPOINT ["/pleskgate"] (exec form: signals reach the gateway)`)
	}
	var ports []string
	for _, e := range commands[*instructions.ExposeCommand](final) {
		ports = append(ports, e.Ports...)
	}
	if !slices.Contains(ports, "8080") && !slices.Contains(ports, "8080/tcp") {
		t.Errorf("final stage EXPOSE %v, want 8080", ports)
	}

	labels := map[string]string{}
	for _, l := range commands[*instructions.LabelCommand](final) {
		for _, kv := range l.Labels {
			labels[kv.Key] = kv.Value
		}
	}
	args := map[string]bool{}
	for _, a := range commands[*instructions.ArgCommand](final) {
		for _, kv := range a.Args {
			args[kv.Key] = true
		}
	}
	for _, k := range []string{"title", "description", "source", "licenses", "version"} {
		v, ok := labels["org.opencontainers.image."+k]
		if !ok || v == "" {
			t.Errorf("final stage lacks LABEL org.opencontainers.image.%s", k)
		}
		// A label fed by an ARG needs the ARG declared in this stage.
		for _, ref := range regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`).FindAllStringSubmatch(v, -1) {
			if !args[ref[1]] {
				t.Errorf("LABEL org.opencontainers.image.%s uses $%s, not an ARG of the final stage", k, ref[1])
			}
		}
	}
	if !strings.Contains(labels["org.opencontainers.image.version"], "VERSION") {
		t.Error("org.opencontainers.image.version should come from ARG VERSION")
	}

	copied := map[string]string{} // destination -> source, from the build stage
	for _, c := range commands[*instructions.CopyCommand](final) {
		if c.From == df.stages[0].Name && len(c.SourcePaths) == 1 {
			copied[c.DestPath] = c.SourcePaths[0]
		}
	}
	for dst, src := range map[string]string{"/pleskgate": "/out/pleskgate", "/plesksim": "/out/plesksim"} {
		if copied[dst] != src {
			t.Errorf("final stage should COPY --from=%s %s %s", df.stages[0].Name, src, dst)
		}
	}
}

// TestDockerignore: the build context keeps everything `go build` reads and
// drops what it does not (VCS data, build output, this nested module).
func TestDockerignore(t *testing.T) {
	f, err := os.Open(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	ignored := func(p string) bool {
		ok, err := pm.MatchesOrParentMatches(p)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, p := range []string{".git/HEAD", "bin/pleskgate", "deploy/validate/go.mod"} {
		if !ignored(p) {
			t.Errorf(".dockerignore keeps %s", p)
		}
	}
	needed := []string{"go.mod", "go.sum", "openapi.yaml"}
	err = filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoRoot, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if slices.Contains([]string{".git", "deploy", "bin", "tmp", "artifacts", "node_modules"}, rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(rel, ".go") && !strings.HasSuffix(rel, "_test.go") && !strings.Contains(rel, "/testdata/") {
			needed = append(needed, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range needed {
		if ignored(p) {
			t.Errorf(".dockerignore drops %s, which go build needs", p)
		}
	}
}
