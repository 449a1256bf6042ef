package translator

import (
	"fmt"
	"reflect"
	"testing"
	"unsafe"
)

// checkOwnedMatches fails unless DecodeResponseOwned, given its own copy of
// body, returns what DecodeResponse returns: equal replies, or the same
// error.
func checkOwnedMatches(t *testing.T, v Version, body []byte, reqs []Request) {
	t.Helper()
	want, wantErr := DecodeResponse(v, body, reqs...)
	got, gotErr := DecodeResponseOwned(v, append([]byte(nil), body...), reqs...)
	if fmt.Sprintf("%T %v", gotErr, gotErr) != fmt.Sprintf("%T %v", wantErr, wantErr) {
		t.Fatalf("errors differ on\n%q\nowned: %v\nDecodeResponse: %v", body, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("replies differ on\n%q\nowned: %s\nDecodeResponse: %s", body, dumpReplies(got), dumpReplies(want))
	}
}

// TestDecodeOwnedMatches: both entry points decode every fixture, benchmark
// body and corner case alike, in every dialect and for every request list
// the fast path's tests use — answers the fast path takes, answers it
// leaves to encoding/xml, and errors.
func TestDecodeOwnedMatches(t *testing.T) {
	take, fallback := fastCases(t)
	for _, c := range append(take, fallback...) {
		t.Run(c.name, func(t *testing.T) {
			checkOwnedMatches(t, c.v, c.body, c.reqs)
			for _, v := range fastVersions {
				for _, reqs := range fastReqSets {
					checkOwnedMatches(t, v, c.body, reqs)
				}
			}
		})
	}
	checkOwnedMatches(t, v1691, getListBody(50), []Request{&GetRequest{}})
	for _, body := range []string{"", "<packet/>", "<packet><customer><get>", "\xff"} {
		checkOwnedMatches(t, v1691, []byte(body), []Request{&GetRequest{}})
	}
	if _, err := DecodeResponseOwned(v1691, []byte(simGetModern)); err == nil {
		t.Fatal("no requests: want an error")
	}
	if _, err := DecodeResponseOwned(v1691, []byte(simGetModern), nil); err == nil {
		t.Fatal("nil request: want an error")
	}
}

// TestDecodeOwnedSharesBody: the texts of the fast path's replies are
// substrings of the body handed over, not of a copy.
func TestDecodeOwnedSharesBody(t *testing.T) {
	body := getListBody(3)
	replies, err := DecodeResponseOwned(v1691, body, &GetRequest{})
	if err != nil {
		t.Fatal(err)
	}
	in := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(body)))
		return p >= lo && p+uintptr(len(s)) <= lo+uintptr(len(body))
	}
	results := replies[0].(*GetReply).Results
	if len(results) != 3 {
		t.Fatalf("%d results", len(results))
	}
	for _, r := range results {
		if r.Client == nil || !in(r.Client.Login) || !in(r.Client.Email) {
			t.Fatalf("texts of %+v are not in the body", r.Client)
		}
	}
}

// FuzzDecodeOwnedMatches: for any body, both entry points agree.
func FuzzDecodeOwnedMatches(f *testing.F) {
	take, fallback := fastCases(f)
	for _, c := range append(take, fallback...) {
		f.Add(c.body, 0)
	}
	f.Fuzz(func(t *testing.T, body []byte, set int) {
		reqs := fastReqSets[uint(set)%uint(len(fastReqSets))]
		v := fastVersions[uint(set/len(fastReqSets))%uint(len(fastVersions))]
		checkOwnedMatches(t, v, body, reqs)
	})
}
