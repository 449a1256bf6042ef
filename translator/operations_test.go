package translator

import (
	"errors"
	"slices"
	"testing"
)

// everyRequest holds one request of each type, and of each operation a
// type can be sent as.
var everyRequest = []Request{
	&AddRequest{}, &GetRequest{}, &GetRequest{Limits: true}, &GetRequest{Permissions: true}, &GetRequest{IPPool: true},
	&SetRequest{}, &SetRequest{Limits: &Limits{}}, &SetRequest{Permissions: []Permission{{"a", true}}}, &DelRequest{},
	&IPPoolAddRequest{}, &IPPoolDelRequest{}, &ButtonsListRequest{}, &LimitDescriptorRequest{}, &PermissionDescriptorRequest{},
	&ConvertToResellerRequest{}, &ChangeOwnerRequest{}, &DomainListRequest{},
}

// TestOperationsAreComplete: every operation is in the table once, is found
// by its name, says its element and its reply, is sent by a request type,
// and Operations lists them by name, each once.
func TestOperationsAreComplete(t *testing.T) {
	ops := Operations()
	var sent []*Op
	for _, r := range everyRequest {
		if r.Op().Name().Op() != r.Op() {
			t.Errorf("%T: Op %s is not the operation registered under its name", r, r.Op().Name())
		}
		sent = append(sent, r.Op())
	}
	for i, op := range ops {
		if i > 0 && ops[i-1].Name() >= op.Name() {
			t.Errorf("operation %d: %s is not after %s (by name, once)", i, op.Name(), ops[i-1].Name())
		}
		if op.Name().Op() != op {
			t.Errorf("operation %d: %s is not found by its name", i, op.Name())
		}
		if op.Element() == "" || op.newReply == nil || op.newReply() == nil {
			t.Errorf("%s: no element or reply", op.Name())
		}
		if !slices.Contains(sent, op) {
			t.Errorf("%s: no request type sends it", op.Name())
		}
		if slices.Index(ops, op) != i {
			t.Errorf("%s is listed twice", op.Name())
		}
	}
	if Operation("bogus").Op() != nil {
		t.Error("an unknown name has an operation")
	}
}

// TestOperationsMatchTheVersionMatrix pins each operation's values to §8:
// its operator per dialect, whether it only reads, and the versions that
// have it.
func TestOperationsMatchTheVersionMatrix(t *testing.T) {
	v1400, v1502, v1600, v1691 := MustParseVersion("1.4.0.0"), MustParseVersion("1.5.2.0"), MustParseVersion("1.6.0.0"), MustParseVersion("1.6.9.1")
	for _, c := range []struct {
		op       Operation
		readOnly bool
		in       []Version // the sample versions that have it, of 1.4.0.0, 1.5.2.0, 1.6.0.0, 1.6.9.1
	}{
		{OpAdd, false, []Version{v1400, v1502, v1600, v1691}},
		{OpGet, true, []Version{v1400, v1502, v1600, v1691}},
		{OpSet, false, []Version{v1400, v1502, v1600, v1691}},
		{OpDel, false, []Version{v1400, v1502, v1600, v1691}},
		{OpGetLimits, true, []Version{v1400, v1502, v1600}},
		{OpSetLimits, false, []Version{v1400, v1502, v1600}},
		{OpGetPermissions, true, []Version{v1400, v1502, v1600}},
		{OpSetPermissions, false, []Version{v1400, v1502, v1600}},
		{OpGetIPPool, true, []Version{v1400, v1502, v1600}},
		{OpIPPoolAddIP, false, []Version{v1400, v1502, v1600}},
		{OpIPPoolDelIP, false, []Version{v1400, v1502, v1600}},
		{OpButtonsList, true, []Version{v1400, v1502, v1600}},
		{OpGetLimitDescriptor, true, []Version{v1502, v1600}},
		{OpGetPermissionDescriptor, true, []Version{v1502, v1600}},
		{OpConvertToReseller, false, []Version{v1600, v1691}},
		{OpChangeOwner, false, []Version{v1600, v1691}},
		{OpGetDomainList, true, []Version{v1691}},
	} {
		op := c.op.Op()
		if op.ReadOnly() != c.readOnly {
			t.Errorf("%s: read-only %v, want %v", c.op, op.ReadOnly(), c.readOnly)
		}
		for _, v := range []Version{v1400, v1502, v1600, v1691} {
			want := slices.ContainsFunc(c.in, func(w Version) bool { return w.Compare(v) == 0 })
			if op.SupportedBy(v) != want || v.Supports(c.op) != want {
				t.Errorf("%s at %s: supported %v, want %v", c.op, v, op.SupportedBy(v), want)
			}
			if want && op.Operator(v) != v.Dialect().Operator() {
				t.Errorf("%s at %s: operator %q, want %q", c.op, v, op.Operator(v), v.Dialect().Operator())
			}
		}
	}
}

// foreignRequest is an operation of another operator, to show that a
// packet holds one operator only.
type foreignRequest struct{}

var opForeign = &Op{name: "foreign", element: "get", operators: operators{DialectClient: "webspace", DialectCustomer: "webspace"},
	readOnly: true, newReply: newGetReply}

func (foreignRequest) Op() *Op                    { return opForeign }
func (foreignRequest) build(Version) (any, error) { return &struct{}{}, nil }

// TestEncodeTakesTheOperatorFromTheOperation: the operator element is the
// operations'; operations of two operators are refused as one packet.
func TestEncodeTakesTheOperatorFromTheOperation(t *testing.T) {
	got, err := EncodeRequest(v1691, foreignRequest{})
	if want := `<packet version="1.6.9.1"><webspace><get></get></webspace></packet>`; err != nil || string(got) != want {
		t.Errorf("EncodeRequest = %s, %v; want %s", got, err, want)
	}
	if got, err := EncodeRequest(v1691, &GetRequest{}, foreignRequest{}); !errors.Is(err, ErrInvalidInput) || got != nil {
		t.Errorf("two operators in one packet: %s, %v", got, err)
	}
	replies, err := DecodeResponse(v1691, []byte(`<packet><webspace><get><result><status>ok</status><id>4</id></result></get></webspace></packet>`), foreignRequest{})
	if err != nil || len(replies) != 1 {
		t.Fatalf("DecodeResponse = %v, %v", replies, err)
	}
}

// TestReplyAs: the reply of the asked type is returned; another type is a
// malformed answer, not a panic.
func TestReplyAs(t *testing.T) {
	replies, err := DecodeResponse(v1691, []byte(`<packet><customer><add><result><status>ok</status><id>7</id><guid>g</guid></result></add>`+
		`<get><result><status>ok</status><id>7</id></result></get></customer></packet>`), &AddRequest{}, &GetRequest{})
	if err != nil {
		t.Fatal(err)
	}
	add, err := ReplyAs[*AddReply](replies[0])
	if err != nil || add.Result.ID != 7 || add.GUID != "g" {
		t.Errorf("ReplyAs[*AddReply] = %+v, %v", add, err)
	}
	get, err := ReplyAs[*GetReply](replies[0])
	if !errors.Is(err, ErrMalformed) || get != nil {
		t.Errorf("ReplyAs[*GetReply] of an add reply = %v, %v; want a malformed answer", get, err)
	}
	if _, err := ReplyAs[*AddReply](nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("ReplyAs of nothing: %v", err)
	}
}

// TestDomainListSince: get-domain-list is sent from 1.6.8.0 on, the first
// version whose answer is documented (its input is in 1.6.7.0, its output
// is not, §7.12, §8); below, no version of a panel that lists only older
// ones is picked, and the packet is refused unbuilt.
func TestDomainListSince(t *testing.T) {
	for vs, want := range map[string]bool{"1.6.0.0": false, "1.6.3.0": false, "1.6.6.0": false, "1.6.7.0": false, "1.6.8.0": true, "1.6.9.0": true, "1.6.9.1": true} {
		if got := MustParseVersion(vs).Supports(OpGetDomainList); got != want {
			t.Errorf("%s supports get-domain-list: %v, want %v", vs, got, want)
		}
	}
	if v, ok := PickVersion(mustParseVersions("1.6.3.0", "1.6.6.0", "1.6.7.0"), OpGetDomainList); ok {
		t.Errorf("picked %s for a panel at 1.6.7.0 at most", v)
	}
	if v, ok := PickVersion(mustParseVersions("1.6.0.0", "1.6.8.0", "1.6.9.1"), OpGetDomainList); !ok || v.String() != "1.6.9.1" {
		t.Errorf("picked %s, %v", v, ok)
	}
	var ue *UnsupportedError
	if got, err := EncodeRequest(MustParseVersion("1.6.7.0"), &DomainListRequest{Filter: ByID(3)}); !errors.As(err, &ue) || got != nil || ue.Operation != OpGetDomainList {
		t.Errorf("EncodeRequest at 1.6.7.0 = %s, %v; want an UnsupportedError naming get-domain-list", got, err)
	}
	if op := OpGetDomainList.Op(); op.Operator(MustParseVersion("1.6.0.0")) != "" || op.Operator(v1691) != "customer" || op.Element() != "get-domain-list" {
		t.Errorf("operators %q/%q, element %q", op.Operator(MustParseVersion("1.6.0.0")), op.Operator(v1691), op.Element())
	}
}
