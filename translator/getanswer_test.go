package translator

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// checkGetAnswerMatches fails unless DecodeGet agrees with
// DecodeResponse on a get's answer: same error, or the same ids, failed
// results and, through Each, the same results.
func checkGetAnswerMatches(t *testing.T, v Version, body []byte) {
	t.Helper()
	req := &GetRequest{}
	replies, wantErr := DecodeResponse(v, body, req)
	a, err := DecodeGet(v, append([]byte(nil), body...), req)
	if fmt.Sprintf("%T %v", err, err) != fmt.Sprintf("%T %v", wantErr, wantErr) {
		t.Fatalf("errors differ on\n%q\nDecodeGet: %v\nDecodeResponse: %v", body, err, wantErr)
	}
	if err != nil {
		return
	}
	want := replies[0].(*GetReply).Results
	var got []GetResult
	a.Each(func(gr *GetResult) bool {
		got = append(got, gr.Clone())
		return true
	})
	if len(got) != len(want) || (len(got) > 0 && !reflect.DeepEqual(got, want)) {
		t.Fatalf("Each differs on\n%q\ngot  %s\nwant %s", body, dumpReplies([]Reply{&GetReply{got}}), dumpReplies([]Reply{&GetReply{want}}))
	}
	var ids []int
	var failed []Result
	for _, r := range want {
		if r.Result.OK() {
			ids = append(ids, r.Result.ID)
		} else {
			failed = append(failed, r.Result)
		}
	}
	if !slices.Equal(a.IDs(), ids) || len(a.Failed()) != len(failed) || (len(failed) > 0 && !reflect.DeepEqual(a.Failed(), failed)) {
		t.Fatalf("on\n%q\nids %v failed %+v, want %v %+v", body, a.IDs(), a.Failed(), ids, failed)
	}
	n := 0
	a.Each(func(*GetResult) bool { n++; return false })
	if len(want) > 0 && n != 1 {
		t.Fatalf("Each went on after false: %d calls", n)
	}
}

// TestDecodeGetMatches: every fixture and corner case, in every
// dialect, against DecodeResponse.
func TestDecodeGetMatches(t *testing.T) {
	take, fallback := fastCases(t)
	for _, c := range append(take, fallback...) {
		t.Run(c.name, func(t *testing.T) {
			for _, v := range fastVersions {
				checkGetAnswerMatches(t, v, c.body)
			}
		})
	}
	checkGetAnswerMatches(t, v1691, getListBody(50))
	checkGetAnswerMatches(t, v1691, []byte(`<packet><customer><get><result><status>ok</status><id>4</id><data><gen_info><login>x</login><owner-id>3</owner-id></gen_info></data></result><result><status>error</status><errcode>1013</errcode><errtext>no</errtext><filter-id>9</filter-id></result><result><status>ok</status><id>2</id><data><gen_info><login>y</login></gen_info></data></result></get></customer></packet>`))
	// Taken by encoding/xml only (CDATA): Each iterates its reply.
	checkGetAnswerMatches(t, v1691, []byte(`<packet><customer><get><result><status>ok</status><id>4</id><data><gen_info><login><![CDATA[x]]></login></gen_info></data></result></get></customer></packet>`))
	for _, body := range []string{"", "<packet/>", "<packet><customer><get>", "\xff"} {
		checkGetAnswerMatches(t, v1691, []byte(body))
	}
	if _, err := DecodeGet(v1691, []byte(simGetModern), nil); err == nil {
		t.Fatal("nil request: want an error")
	}
	if _, err := DecodeResponse(v1691, []byte(simGetModern)); err == nil {
		t.Fatal("DecodeResponse, no requests: want an error")
	}
	if _, err := DecodeResponse(v1691, []byte(simGetModern), nil); err == nil {
		t.Fatal("DecodeResponse, nil request: want an error")
	}
}

// TestDecodeGetKeepsItsOwnCopy: the caller may overwrite body once DecodeGet
// has returned; Each still decodes what was answered.
func TestDecodeGetKeepsItsOwnCopy(t *testing.T) {
	body := getListBody(3)
	replies, err := DecodeResponse(v1691, body, &GetRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := replies[0].(*GetReply).Results
	a, err := DecodeGet(v1691, body, &GetRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range body {
		body[i] = 'x'
	}
	var got []GetResult
	a.Each(func(gr *GetResult) bool { got = append(got, gr.Clone()); return true })
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after the body was overwritten, Each gave %+v, want %+v", got, want)
	}
}

// TestInfoIntoMatchesInfo: infoInto fills exactly what info returns, field
// by field, and fails where it fails.
func TestInfoIntoMatchesInfo(t *testing.T) {
	var g genInfoXML
	rv := reflect.ValueOf(&g).Elem()
	for i := range rv.NumField() {
		if f := rv.Field(i); f.Kind() == reflect.String {
			f.SetString(fmt.Sprintf(" v%d ", i))
		}
	}
	g.Status = " 16 "
	owner := " 5 "
	g.OwnerID = &owner
	for _, mod := range []func(){func() {}, func() { g.OwnerID = nil }, func() { e := " "; g.OwnerID = &e },
		func() { g.Status = "" }, func() { g.Status = "x" }, func() { g.Status = "1"; o := "y"; g.OwnerID = &o }} {
		mod()
		want, wantErr := g.info()
		var ci ClientInfo
		var n int
		err := g.infoInto(&ci, &n)
		if fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Fatalf("errors %v, want %v", err, wantErr)
		}
		if err == nil && !reflect.DeepEqual(&ci, want) {
			t.Fatalf("infoInto %+v, info %+v", ci, *want)
		}
	}
}

func FuzzDecodeGetMatches(f *testing.F) {
	take, fallback := fastCases(f)
	for _, c := range append(take, fallback...) {
		f.Add(c.body, 0)
	}
	f.Fuzz(func(t *testing.T, body []byte, vi int) {
		checkGetAnswerMatches(t, fastVersions[uint(vi)%uint(len(fastVersions))], body)
	})
}
