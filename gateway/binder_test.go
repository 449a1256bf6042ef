package gateway

import (
	"net/http"
	"strconv"
	"testing"
)

// TestTrailingJSON: a body is one JSON value. Found by the seed
// corpus of FuzzCreateClientBody: `{...} trailing` is accepted and the
// trailing text ignored, because both kin-openapi's decodeJSON and
// jsonBinder.Bind use json.Decoder.Decode, which stops after the first value.
func TestTrailingJSON(t *testing.T) {
	h := newHarness(t)
	id := h.createClient("trailing")
	var accepted []string
	for _, c := range []struct{ method, path, body, ct string }{
		{"POST", "/clients", `{"name":"n","login":"t1","password":"pw-12345"} trailing`, "application/json"},
		{"POST", "/clients", `{"name":"n","login":"t2","password":"pw-12345"}{"name":"m","login":"t3","password":"x"}`, "application/json"},
		{"PATCH", "/clients/" + strconv.Itoa(id), `{"city":"A"} {"city":"B"}`, "application/merge-patch+json"},
	} {
		r := h.do(c.method, c.path, c.body, c.ct)
		if r.StatusCode < 300 {
			accepted = append(accepted, c.body)
			continue
		}
		if r.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s %s %q: %d", c.method, c.path, c.body, r.StatusCode)
		}
		r.problem(t)
	}
	if len(accepted) > 0 {
		knownBug(t, "bodies with data after the JSON value are accepted and the rest silently ignored "+
			"(e.g. "+accepted[0]+"); fix: in jsonBinder.Bind, after dec.Decode, require `_, err := dec.Token(); err == io.EOF` "+
			"and answer 400 otherwise (the validator passes them because kin-openapi decodes the first value only)")
	}
}
