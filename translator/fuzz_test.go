package translator

import (
	"fmt"
	"path/filepath"
	"testing"
)

func typeName(v any) string { return fmt.Sprintf("%T", v) }

// fuzzReqSets are the request lists a fuzzed body is decoded against.
var fuzzReqSets = [][]Request{
	{&GetRequest{}},
	{&AddRequest{}, &GetRequest{}, &DelRequest{}},
	{&SetRequest{}, &IPPoolAddRequest{}, &ButtonsListRequest{}, &LimitDescriptorRequest{}},
	{&IPPoolDelRequest{}, &PermissionDescriptorRequest{}, &ConvertToResellerRequest{}, &ChangeOwnerRequest{}},
	{&DomainListRequest{}, &GetRequest{}},
}

func FuzzDecodeResponse(f *testing.F) {
	for _, dir := range []string{"responses", "protocol_md", "requests"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.xml"))
		for _, file := range files {
			f.Add(readFile(f, file), "1.6.9.1")
			f.Add(readFile(f, file), "1.6.0.0")
		}
	}
	f.Add([]byte(`<packet><customer><get/></customer></packet>`), "1.6.3")
	f.Fuzz(func(t *testing.T, body []byte, version string) {
		v, err := ParseVersion(version)
		if err != nil {
			v = v1691
		}
		for _, reqs := range fuzzReqSets {
			replies, err := DecodeResponse(v, body, reqs...)
			if err == nil && len(replies) != len(reqs) {
				t.Fatalf("%d replies for %d requests", len(replies), len(reqs))
			}
			if pe, ok := err.(*ParseError); ok && len(pe.Snippet) > maxSnippet {
				t.Fatalf("snippet %d bytes", len(pe.Snippet))
			}
		}
		_, _ = DecodeGetProtos(body)
	})
}

func FuzzParseVersion(f *testing.F) {
	for _, v := range KnownVersions {
		f.Add(v.String())
	}
	for _, s := range []string{"", "1.6", "1.6.5", "-1", "1..2", "1.2.3.4.5", "99999999999", "1.6.9.1\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		// A parsed version re-parses to an equal version of the same length.
		w, err := ParseVersion(v.String())
		if err != nil || w.Compare(v) != 0 || w.Parts() != v.Parts() {
			t.Fatalf("%q → %q → %v %v", s, v, w, err)
		}
		_ = v.Dialect()
		for _, op := range Operations() {
			_ = v.Supports(op.Name())
		}
		if !v.HasPrefix(v) {
			t.Fatalf("%q is not its own prefix", s)
		}
	})
}
