package translator

import (
	"encoding/xml"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Tests of the fixtures written from PROTOCOL.md §15's recorded facts
// (testdata/responses/rec*.xml; their decoded form is in the .json beside
// each, checked by TestResponseGolden).

// §15 "Versions seen": an answer listing 1.0.0.0 and up, unsorted as the
// documented get_protos sample is, decodes ascending.
func TestGetProtosRecordedRange(t *testing.T) {
	body := readFile(t, filepath.Join("testdata", "recorded", "get_protos_unsorted.xml"))
	want := mustParseVersions("1.0.0.0", "1.1.0.0", "1.2.0.0", "1.3.0.0", "1.3.1.0", "1.3.2.0", "1.3.3.0",
		"1.3.4.0", "1.3.5.0", "1.4.1.1", "1.4.1.2", "1.6.0.2", "1.6.3.5", "1.6.9.1")
	for name, decode := range map[string]func([]byte) ([]Version, error){"DecodeGetProtos": DecodeGetProtos} {
		got, err := decode(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v\nwant %v", name, got, want)
		}
		if v, ok := PickVersion(got, OpGetLimitDescriptor); !ok || v.String() != "1.6.0.2" {
			t.Errorf("%s: descriptor version %v", name, v)
		}
		if v, ok := PickVersion(got, OpAdd); !ok || v.String() != "1.6.9.1" {
			t.Errorf("%s: add version %v", name, v)
		}
	}
	for _, v := range want {
		if v.Less(v1630) != (v.Dialect() == DialectClient) {
			t.Errorf("%s dialect %s", v, v.Dialect())
		}
	}
}

// REC-1: a customer get at 1.6.3.5 carries password/password_type, which the
// translator never reads; owner-login xor owner-id comes through as sent.
func TestRecordedGetOwnersAndPassword(t *testing.T) {
	f := filepath.Join("testdata", "responses", "rec1_get_blank.v1.6.3.5.xml")
	body := readFile(t, f)
	replies, err := DecodeResponse(MustParseVersion("1.6.3.5"), body, &GetRequest{})
	if err != nil {
		t.Fatal(err)
	}
	rs := replies[0].(*GetReply).Results
	if len(rs) != 2 {
		t.Fatalf("%d results", len(rs))
	}
	a, r := rs[0], rs[1]
	if a.Result.FilterID != "5" || a.Result.ID != 5 || r.Result.FilterID != "6" || r.Result.ID != 6 {
		t.Errorf("filter-id/id %+v %+v", a.Result, r.Result)
	}
	if a.Client.OwnerLogin != "admin" || a.Client.OwnerID != nil || r.Client.OwnerLogin != "" || r.Client.OwnerID == nil || *r.Client.OwnerID != 3 {
		t.Errorf("owners %+v %+v", a.Client, r.Client)
	}
	if a.Client.Locale != "en-US" || a.Client.Description != "" || a.Stat == nil || a.Stat.Webapps == nil {
		t.Errorf("locale/description/webapps %+v %+v", a.Client, a.Stat)
	}
	if j := string(decodedJSON(replies, nil)); strings.Contains(j, "$5$") || strings.Contains(strings.ToLower(j), "password") || strings.Contains(j, "crypt") {
		t.Error("the decoded form carries the password hash or its type")
	}
}

// REC-1: the recorded errtexts keep their categories.
func TestRecordedErrors(t *testing.T) {
	decode := func(name string, req Request) *Error {
		t.Helper()
		f := filepath.Join("testdata", "responses", name)
		replies, err := DecodeResponse(versionFromName(t, f), readFile(t, f), req)
		if err != nil {
			t.Fatal(err)
		}
		var res Result
		switch r := replies[0].(type) {
		case *AddReply:
			res = r.Result
		case *ResultsReply:
			res = r.Results[0]
		}
		var pe *Error
		if !errors.As(res.Err(), &pe) {
			t.Fatalf("%s: no error in %+v", name, res)
		}
		return pe
	}
	if e := decode("rec1_add_exists.v1.6.3.5.xml", &AddRequest{}); e.Code != 1007 || !errors.Is(e, ErrExists) || e.Text != "Client with login name 'cust91' already exists." {
		t.Errorf("1007: %+v", e)
	}
	if e := decode("rec1_set_unknown.v1.6.3.5.xml", &SetRequest{}); e.Code != 1013 || !errors.Is(e, ErrNotFound) || e.Text != "client does not exist" {
		t.Errorf("1013: %+v", e)
	}
}

// The decision on REC-1's 1019 "…already exists.": a conflict (ErrExists),
// not an invalid value; any other 1019 stays ErrInvalidValue.
func TestInvalidValueAlreadyExists(t *testing.T) {
	e := &Error{Code: CodeInvalidValue, Text: `Unable to set login or password argument: A user with username "reseller99" already exists.`}
	if !errors.Is(e, ErrExists) || errors.Is(e, ErrInvalidValue) || !IsConflict(e) {
		t.Errorf("1019 already exists: Is(ErrExists)=%v Is(ErrInvalidValue)=%v", errors.Is(e, ErrExists), errors.Is(e, ErrInvalidValue))
	}
	other := &Error{Code: CodeInvalidValue, Text: "Unable to set login or password argument: The password is too weak."}
	if errors.Is(other, ErrExists) || !errors.Is(other, ErrInvalidValue) || IsConflict(other) {
		t.Error("plain 1019 changed category")
	}
	if !IsConflict(&Error{Code: CodeDataExists}) || IsConflict(&Error{Code: CodeObjectNotFound, Text: "already exists"}) {
		t.Error("IsConflict by code")
	}
}

// REC-1: the reseller add 1019 "already exists" reads as a conflict.
func TestRecordedReseller1019(t *testing.T) {
	var pkt struct {
		Result struct {
			Code int    `xml:"errcode"`
			Text string `xml:"errtext"`
		} `xml:"reseller>add>result"`
	}
	if err := xml.Unmarshal(readFile(t, filepath.Join("testdata", "recorded", "reseller_add_1019.xml")), &pkt); err != nil {
		t.Fatal(err)
	}
	e := &Error{Code: pkt.Result.Code, Text: pkt.Result.Text}
	if e.Code != 1019 || !strings.Contains(e.Text, `"reseller99" already exists`) || !IsConflict(e) || !errors.Is(e, ErrExists) {
		t.Fatalf("%+v", e)
	}
}

// REC-1: server get stat answers plesk_version.
func TestRecordedServerInfo(t *testing.T) {
	info, err := decodeServerInfo(readFile(t, filepath.Join("testdata", "recorded", "server_get_stat.xml")))
	if err != nil || info.PleskVersion != "11.5.30" {
		t.Fatalf("%+v %v", info, err)
	}
	if !strings.Contains(string(encodeServerInfo()), "<server><get><key></key><gen_info></gen_info><stat></stat></get></server>") {
		t.Error("encodeServerInfo")
	}
	_, err = decodeServerInfo([]byte(`<packet><server><get><result><status>error</status><errcode>1006</errcode><errtext>Permission denied.</errtext></result></get></server></packet>`))
	if !errors.Is(err, ErrPermission) {
		t.Errorf("op error %v", err)
	}
	if _, err := decodeServerInfo([]byte(`<packet><server/></packet>`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("empty %v", err)
	}
}
