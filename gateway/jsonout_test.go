package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// unescapeAll passes body through an htmlUnescaper in writes of n bytes
// (0: one write) under the content type ct.
func unescapeAll(t *testing.T, ct string, body []byte, n int) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	var u htmlUnescaper
	u.reset(rec)
	u.Header().Set("Content-Type", ct)
	if n <= 0 {
		n = len(body) + 1
	}
	for len(body) > 0 {
		k := min(n, len(body))
		if w, err := u.Write(body[:k]); err != nil || w != k {
			t.Fatalf("Write: %d %v", w, err)
		}
		body = body[k:]
	}
	return rec.Body.Bytes()
}

// For any value, json.Marshal's bytes through htmlUnescaper, however they
// are split into writes, are encoding/json's with escaping off.
func TestHTMLUnescaperMatchesEncoderWithoutEscaping(t *testing.T) {
	values := []any{
		"a&b<c>d", `<b>&"Co"</b>`, `\u003c literally`, `\\u003c`, `\`, `back\slash "q"`, "\u2028 \u2029 \x01 \t\n",
		"&&&<<<>>>", "", "Zoë ✓ 😀", map[string]any{"k<": []any{"&", 1, nil, true, `\u0026`}},
		obj{"items": []obj{{"login": "b<script>", "name": "A & B"}}, "next_cursor": "x&y"},
	}
	for _, v := range values {
		escaped, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
		wantB := bytes.TrimSuffix(want.Bytes(), []byte{'\n'})
		if got, _ := marshalJSON(v); !bytes.Equal(got, wantB) {
			t.Fatalf("marshalJSON %s, want %s", got, wantB)
		}
		for _, n := range []int{0, 1, 2, 3, 5, 7} {
			if got := unescapeAll(t, "application/problem+json", escaped, n); !bytes.Equal(got, wantB) {
				t.Fatalf("%q in writes of %d: %s, want %s", v, n, got, wantB)
			}
		}
	}
	// Not JSON: untouched.
	if got := unescapeAll(t, "text/html", []byte(`\u003c`), 0); string(got) != `\u003c` {
		t.Fatalf("text/html changed: %s", got)
	}
}

// &, < and > come back as they were sent, in the generated handlers'
// answers (create, get, patch), the streamed listing, a problem's detail
// and an Idempotency-Key replay.
func TestJSONAnswersDoNotEscapeHTML(t *testing.T) {
	h := newHarness(t)
	body := newClientBody("amp&lt<gt>")
	body["name"] = "Ann & Bob <Smith>"
	keyed := h.with("Idempotency-Key", "html-escape-1")
	created := h.expect(keyed.do("POST", "/clients", body), http.StatusCreated)
	replayed := h.expect(keyed.do("POST", "/clients", body), http.StatusCreated)
	var c struct {
		ID int64 `json:"id"`
	}
	created.json(t, &c)
	id := strconv.FormatInt(c.ID, 10)
	got := h.expect(h.do("GET", "/clients/"+id, nil), http.StatusOK)
	patched := h.expect(h.with("If-Match", got.Header.Get("ETag")).do("PATCH", "/clients/"+id, obj{"city": "Town & <Country>"}, "application/merge-patch+json"), http.StatusOK)
	list := h.expect(h.do("GET", "/clients?limit=1000", nil), http.StatusOK)
	for name, r := range map[string]response{"create": created, "replay": replayed, "get": got, "patch": patched, "list": list} {
		if !bytes.Contains(r.body, []byte(`"name":"Ann & Bob <Smith>"`)) || !bytes.Contains(r.body, []byte(`"company":"LogicSoft <Ltd> & \"Co\""`)) {
			t.Errorf("%s: &<> not literal: %s", name, r.body)
		}
		if bytes.Contains(r.body, []byte(`\u00`)) {
			t.Errorf("%s: an escape left: %s", name, r.body)
		}
	}
	if !bytes.Contains(patched.body, []byte(`"city":"Town & <Country>"`)) {
		t.Errorf("patch: %s", patched.body)
	}
	p := h.expect(h.do("POST", "/clients", body), http.StatusConflict)
	if bytes.Contains(p.body, []byte(`\u00`)) || !strings.Contains(string(p.body), "amp&lt<gt>") {
		t.Errorf("problem: %s", p.body)
	}
}
