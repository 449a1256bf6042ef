package pleskgate

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v4"
)

func TestYAMLToJSONKeepsOrderAndTypes(t *testing.T) {
	src := `
zeta: 1
alpha:
  second: 'two'
  first: [1, 2.5, true, null, "x<&>y"]
date: 2024-03-18
quoted: '42'
anchor: &a {b: 1, a: 2}
alias: *a
200: ok
`
	got, err := YAMLToJSON([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"zeta":1,"alpha":{"second":"two","first":[1,2.5,true,null,"x<&>y"]},"date":"2024-03-18","quoted":"42","anchor":{"b":1,"a":2},"alias":{"b":1,"a":2},"200":"ok"}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	for _, bad := range []string{"a: .inf\n", "base: &b {x: 1}\nm:\n  <<: *b\n", "? [1, 2]\n: x\n"} {
		if out, err := YAMLToJSON([]byte(bad)); err == nil {
			t.Errorf("%q: want an error, got %s", bad, out)
		}
	}
}

// The served JSON is the same document as openapi.yaml, in its order.
func TestOpenAPIJSONIsTheYAMLInItsOrder(t *testing.T) {
	js, err := OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON, fromYAML any
	if err := json.Unmarshal(js, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(OpenAPIYAML, &fromYAML); err != nil {
		t.Fatal(err)
	}
	// yaml → any → JSON → any, so both sides have JSON's types.
	b, err := json.Marshal(fromYAML)
	if err != nil {
		t.Fatal(err)
	}
	var want any
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON, want) {
		t.Fatal("openapi.json differs from openapi.yaml")
	}

	// Every mapping's keys come in the YAML's order.
	var doc yaml.Node
	if err := yaml.Unmarshal(OpenAPIYAML, &doc); err != nil {
		t.Fatal(err)
	}
	var yamlKeys []string
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, path+"[]")
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				yamlKeys = append(yamlKeys, path+"/"+n.Content[i].Value)
				walk(n.Content[i+1], path+"/"+n.Content[i].Value)
			}
		}
	}
	walk(&doc, "")
	jsonKeys := jsonKeyOrder(t, js)
	if !reflect.DeepEqual(jsonKeys, yamlKeys) {
		for i := range min(len(jsonKeys), len(yamlKeys)) {
			if jsonKeys[i] != yamlKeys[i] {
				t.Fatalf("key %d: JSON has %s, YAML %s", i, jsonKeys[i], yamlKeys[i])
			}
		}
		t.Fatalf("JSON has %d keys, YAML %d", len(jsonKeys), len(yamlKeys))
	}

	// What Swagger UI shows first: basicAuth in Authorize, and the
	// createClient example it pre-fills.
	for _, want := range []string{`"securitySchemes":{"basicAuth":`, `"examples":{"minimal":`} {
		if !bytes.Contains(js, []byte(want)) {
			t.Errorf("openapi.json lacks %s", want)
		}
	}
}

// jsonKeyOrder lists every object key of a JSON document as a path, in order.
func jsonKeyOrder(t *testing.T, js []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(js))
	var keys []string
	var value func(path string)
	value = func(path string) {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					t.Fatal(err)
				}
				keys = append(keys, path+"/"+k.(string))
				value(path + "/" + k.(string))
			}
			_, _ = dec.Token()
		case json.Delim('['):
			for dec.More() {
				value(path + "[]")
			}
			_, _ = dec.Token()
		}
	}
	value("[]")
	if strings.TrimSpace(string(js[dec.InputOffset():])) != "" {
		t.Fatal("trailing data after the JSON document")
	}
	return keys
}

// Every operation that takes an Idempotency-Key declares, on its success
// answers, the Idempotent-Recorded header the idempotency layer may set
// there (gateway/idempotency.go, README), so clients generated from the
// spec can read it.
func TestKeyedOperationsDeclareIdempotentRecorded(t *testing.T) {
	spec, err := openapi3.NewLoader().LoadFromData(OpenAPIYAML)
	if err != nil {
		t.Fatal(err)
	}
	keyed := 0
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			takesKey := false
			for _, p := range op.Parameters {
				takesKey = takesKey || p.Ref == "#/components/parameters/IdempotencyKey"
			}
			if !takesKey {
				continue
			}
			keyed++
			for code, resp := range op.Responses.Map() {
				if !strings.HasPrefix(code, "2") {
					continue
				}
				if h := resp.Value.Headers["Idempotent-Recorded"]; h == nil || h.Ref != "#/components/headers/IdempotentRecorded" {
					t.Errorf("%s %s (%s): its %s answer does not declare Idempotent-Recorded", method, path, op.OperationID, code)
				}
			}
		}
	}
	if keyed < 4 {
		t.Fatalf("%d operations take an Idempotency-Key, want at least createClient, createClientsBatch, addClientIP and convertClientToReseller", keyed)
	}
}
