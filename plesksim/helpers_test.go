package plesksim

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fixedNow makes cr_date deterministic.
func fixedNow() time.Time { return time.Date(2015, 12, 2, 10, 0, 0, 0, time.UTC) }

func newSim(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = fixedNow
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

type creds map[string]string

var asAdmin = creds{"HTTP_AUTH_LOGIN": "admin", "HTTP_AUTH_PASSWD": "setup"}

func as(login, pass string) creds { return creds{"HTTP_AUTH_LOGIN": login, "HTTP_AUTH_PASSWD": pass} }

// post sends body to s in-process and returns the HTTP status and body.
func post(t *testing.T, s *Server, c creds, body string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, AgentPath, strings.NewReader(body))
	r.Header.Set("Content-Type", "text/xml")
	for k, v := range c {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

// call posts a packet, requires HTTP 200, validates modern answers against
// Plesk's schema when PLESK_XSD_DIR is set, and returns the parsed answer.
func call(t *testing.T, s *Server, c creds, body string) *node {
	t.Helper()
	code, out := post(t, s, c, body)
	if code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", code, out)
	}
	root, err := parseTree([]byte(out))
	if err != nil {
		t.Fatalf("answer is not XML: %v\n%s", err, out)
	}
	if root.name != "packet" {
		t.Fatalf("answer root %q", root.name)
	}
	attr, present := sniffVersion([]byte(body))
	if v, ok := s.resolveVersion(attr, present); ok && v.atLeast(v1630) && root.child("server") == nil {
		xsdValidate(t, v, out)
	}
	return root
}

// admin sends as the administrator.
func admin(t *testing.T, s *Server, body string) *node { t.Helper(); return call(t, s, asAdmin, body) }

// texts returns the collapsed text of every element at the slash path under n.
func texts(n *node, path string) []string {
	var out []string
	for _, m := range find(n, path) {
		out = append(out, m.value())
	}
	return out
}

func find(n *node, path string) []*node {
	cur := []*node{n}
	for _, p := range strings.Split(path, "/") {
		var next []*node
		for _, c := range cur {
			next = append(next, c.all(p)...)
		}
		cur = next
	}
	return cur
}

func text1(t *testing.T, n *node, path string) string {
	t.Helper()
	v := texts(n, path)
	if len(v) != 1 {
		t.Fatalf("%s: want 1 element, got %d (%q)", path, len(v), v)
	}
	return v[0]
}

func wantSystem(t *testing.T, root *node, code string, errtextContains string) {
	t.Helper()
	if len(root.children) != 1 || root.children[0].name != "system" {
		t.Fatalf("want only <system>, got %v", names(root.children))
	}
	if got := text1(t, root, "system/status"); got != "error" {
		t.Fatalf("system status %q", got)
	}
	if got := text1(t, root, "system/errcode"); got != code {
		t.Fatalf("errcode %s, want %s (errtext %q)", got, code, texts(root, "system/errtext"))
	}
	if et := text1(t, root, "system/errtext"); !strings.Contains(et, errtextContains) {
		t.Fatalf("errtext %q does not contain %q", et, errtextContains)
	}
}

func names(ns []*node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.name)
	}
	return out
}

// results returns the <result> elements of operator/op (first operator and op).
func results(root *node, operator, op string) []*node { return find(root, operator+"/"+op+"/result") }

func wantOK(t *testing.T, r *node) {
	t.Helper()
	if st := text1(t, r, "status"); st != "ok" {
		t.Fatalf("status %s: errcode %v errtext %v", st, texts(r, "errcode"), texts(r, "errtext"))
	}
}

func wantErr(t *testing.T, r *node, code string) {
	t.Helper()
	if st := text1(t, r, "status"); st != "error" {
		t.Fatalf("status %s, want error %s", st, code)
	}
	if c := text1(t, r, "errcode"); c != code {
		t.Fatalf("errcode %s, want %s (%v)", c, code, texts(r, "errtext"))
	}
}

// ---- schema validation of answers with xmllint ----

var (
	xsdOnce     sync.Once
	xsdPatched  string
	xsdSetupErr error
	xsdRuns     atomic.Int64
)

// xsdValidate validates a modern answer against customer-response.xsd.
// Two documented deviations use a patched copy made in a temporary directory
// (the schemas never enter the repository): 1.6.9.1 dropped stat/webapps
// (PROTOCOL.md §6.1) and an empty-filter get that matches nothing is an
// empty <get/> (PROTOCOL.md §2).
func xsdValidate(t *testing.T, v version, out string) {
	t.Helper()
	dir := os.Getenv("PLESK_XSD_DIR")
	if dir == "" {
		return
	}
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Fatalf("PLESK_XSD_DIR is set but xmllint is missing: %v", err)
	}
	schemaDir := dir
	if strings.Contains(out, "<get/>") || (v.atLeast(v1691) && strings.Contains(out, "<stat>")) {
		xsdOnce.Do(func() { xsdPatched, xsdSetupErr = patchSchemas(dir) })
		if xsdSetupErr != nil {
			t.Fatalf("patching schemas: %v", xsdSetupErr)
		}
		schemaDir = xsdPatched
	}
	xsdRuns.Add(1)
	cmd := exec.Command("xmllint", "--noout", "--schema", filepath.Join(schemaDir, "customer-response.xsd"), "-")
	cmd.Stdin = strings.NewReader(out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("answer (version %s) fails customer-response.xsd: %v\n%s\n%s", v, err, stderr.String(), out)
	}
}

func patchSchemas(dir string) (string, error) {
	tmp, err := os.MkdirTemp("", "plesksim-xsd-")
	if err != nil {
		return "", err
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.xsd"))
	if err != nil {
		return "", err
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		s := string(b)
		patch := func(old, new string) {
			if err == nil && !strings.Contains(s, old) {
				err = fmt.Errorf("%s: %q not found", f, old)
			}
			s = strings.Replace(s, old, new, 1)
		}
		switch filepath.Base(f) {
		case "plesk_client.xsd":
			patch(`name="webapps" type="unsignedInt" default="0"`, `name="webapps" type="unsignedInt" default="0" minOccurs="0"`)
		case "client_output.xsd":
			// The result of get is the first maxOccurs="unbounded" result.
			patch(`<xs:element name="result" maxOccurs="unbounded">`, `<xs:element name="result" minOccurs="0" maxOccurs="unbounded">`)
		}
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(tmp, filepath.Base(f)), []byte(s), 0o644); err != nil {
			return "", err
		}
	}
	return tmp, nil
}

// flagRunSet reports whether -run narrowed the tests (then validation may
// legitimately not happen).
func flagRunSet() bool {
	f := flag.Lookup("test.run")
	return f != nil && f.Value.String() != ""
}

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && os.Getenv("PLESK_XSD_DIR") != "" && xsdRuns.Load() == 0 && !testing.Short() && !flagRunSet() {
		fmt.Println("PLESK_XSD_DIR is set but no answer was schema-validated")
		code = 1
	}
	if xsdPatched != "" {
		os.RemoveAll(xsdPatched)
	}
	os.Exit(code)
}
