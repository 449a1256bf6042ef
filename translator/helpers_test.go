package translator

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func ptr[T any](v T) *T { return &v }

// golden compares got with testdata file path, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from output:\n got: %s\nwant: %s", path, got, want)
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// canonicalXML renders an XML document as a normalized token list: no
// declaration, comments or whitespace-only text; <a/> == <a></a>. With
// dropVersion the packet's version attribute is left out.
func canonicalXML(t *testing.T, b []byte, dropVersion bool) string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var out strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("canonicalXML: %v\n%s", err, b)
		}
		switch tt := tok.(type) {
		case xml.StartElement:
			out.WriteString("<" + tt.Name.Local)
			for _, a := range tt.Attr {
				if dropVersion && tt.Name.Local == "packet" && a.Name.Local == "version" {
					continue
				}
				out.WriteString(" " + a.Name.Local + "=" + a.Value)
			}
			out.WriteString(">")
		case xml.EndElement:
			out.WriteString("</" + tt.Name.Local + ">")
		case xml.CharData:
			if s := strings.TrimSpace(string(tt)); s != "" {
				out.WriteString(string(tt))
			}
		}
	}
	return out.String()
}

// packetInfo reads the packet's version attribute and first operator element.
func packetInfo(t *testing.T, b []byte) (version, operator string) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("packetInfo: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			depth++
			if depth == 1 {
				for _, a := range se.Attr {
					if a.Name.Local == "version" {
						version = a.Value
					}
				}
			}
			if depth == 2 {
				return version, se.Name.Local
			}
		}
		if _, ok := tok.(xml.EndElement); ok {
			depth--
		}
	}
}

// xmllint validates file against schema; it returns xmllint's output and
// whether the file validated. A missing xmllint fails the test.
func xmllint(t *testing.T, schema, file string) (string, bool) {
	t.Helper()
	path, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatalf("xmllint is required (Debian: libxml2-utils): %v", err)
	}
	out, err := exec.Command(path, "--noout", "--nonet", "--schema", schema, file).CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("running xmllint: %v", err)
		}
		return string(out), false
	}
	return string(out), true
}

// versionFromName reads "name.v1.6.9.1.xml" → 1.6.9.1.
func versionFromName(t *testing.T, name string) Version {
	t.Helper()
	base := strings.TrimSuffix(filepath.Base(name), ".xml")
	i := strings.Index(base, ".v")
	if i < 0 {
		t.Fatalf("%s: no .v<version> in name", name)
	}
	return MustParseVersion(base[i+2:])
}
