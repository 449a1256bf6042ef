package translator

import "fmt"

// An Op is one operation of the client accounts operator (§7), stated once:
// its name, its operation element, its operator element in each dialect,
// whether it only reads, the protocol versions that have it and its typed
// reply. How its request is built is the build method of the request type
// that names it (Request.Op), next to its wire structs.
//
// Everything that needs to know about an operation reads these values:
// Version.Supports and PickVersion, EncodeRequest (the operator and
// operation elements), DecodeResponse (which element answers, which reply
// type reads it), and the gateway's retries, idempotency write-marking,
// /meta and legacy guard. An Op is never changed after start-up.
type Op struct {
	name      Operation
	element   string
	operators operators // by dialect; "" where the dialect lacks it
	since     Version   // first protocol version that has it; zero: every version
	readOnly  bool
	oneResult bool // the answer holds exactly one <result>
	newReply  func() replyReader
}

// operators names an operation's operator element in each dialect.
type operators [DialectCustomer + 1]string

var (
	// accountOperators: both dialects, "client" then "customer" (§8).
	accountOperators = operators{DialectClient: "client", DialectCustomer: "customer"}
	// legacyOperators: only the legacy client operator (< 1.6.3.0).
	legacyOperators = operators{DialectClient: "client"}
)

// Name is the capability the operation stands for, as used in errors and
// version choice ("add", "get-limits", …).
func (o *Op) Name() Operation { return o.name }

// Element is the operation element in request and answer ("add", "get", …).
func (o *Op) Element() string { return o.element }

// Operator is the operator element the operation is sent under at protocol
// v ("client", "customer"), or "" when v's dialect lacks it.
func (o *Op) Operator(v Version) string { return o.operators[v.Dialect()] }

// ReadOnly reports whether the operation only reads: its packet may be sent
// again, and it writes nothing an idempotency record must account for.
func (o *Op) ReadOnly() bool { return o.readOnly }

// SupportedBy reports whether protocol v has the operation (§8).
func (o *Op) SupportedBy(v Version) bool {
	return v.AtLeast(o.since) && o.Operator(v) != ""
}

func newGetReply() replyReader     { return &GetReply{Results: []GetResult{}} }
func newResultsReply() replyReader { return &ResultsReply{Results: []Result{}} }
func newIPPoolReply() replyReader  { return &IPPoolReply{Results: []IPPoolResult{}} }

func newDescriptorReply() replyReader {
	return &DescriptorReply{Results: []DescriptorResult{}}
}

// The operations (§7, version matrix §8). get, set and del carry the legacy
// datasets (limits, permissions, ippool) as operations of their own, since
// those have their own version window.
var (
	opAdd = &Op{name: OpAdd, element: "add", operators: accountOperators, oneResult: true,
		newReply: func() replyReader { return new(AddReply) }}
	opGet = &Op{name: OpGet, element: "get", operators: accountOperators, readOnly: true, newReply: newGetReply}
	opSet = &Op{name: OpSet, element: "set", operators: accountOperators, newReply: newResultsReply}
	opDel = &Op{name: OpDel, element: "del", operators: accountOperators, newReply: newResultsReply}

	opGetLimits      = &Op{name: OpGetLimits, element: "get", operators: legacyOperators, readOnly: true, newReply: newGetReply}
	opSetLimits      = &Op{name: OpSetLimits, element: "set", operators: legacyOperators, newReply: newResultsReply}
	opGetPermissions = &Op{name: OpGetPermissions, element: "get", operators: legacyOperators, readOnly: true, newReply: newGetReply}
	opSetPermissions = &Op{name: OpSetPermissions, element: "set", operators: legacyOperators, newReply: newResultsReply}
	opGetIPPool      = &Op{name: OpGetIPPool, element: "get", operators: legacyOperators, readOnly: true, newReply: newGetReply}

	opIPPoolAddIP = &Op{name: OpIPPoolAddIP, element: "ippool_add_ip", operators: legacyOperators, newReply: newIPPoolReply}
	opIPPoolDelIP = &Op{name: OpIPPoolDelIP, element: "ippool_del_ip", operators: legacyOperators, newReply: newIPPoolReply}
	opButtonsList = &Op{name: OpButtonsList, element: "cform_buttons_list", operators: legacyOperators, readOnly: true,
		newReply: func() replyReader { return &ButtonsReply{Results: []ButtonsResult{}} }}

	opGetLimitDescriptor = &Op{name: OpGetLimitDescriptor, element: "get-limit-descriptor", operators: legacyOperators,
		since: v1500, readOnly: true, newReply: newDescriptorReply}
	opGetPermissionDescriptor = &Op{name: OpGetPermissionDescriptor, element: "get-permission-descriptor", operators: legacyOperators,
		since: v1500, readOnly: true, newReply: newDescriptorReply}

	opConvertToReseller = &Op{name: OpConvertToReseller, element: "convert-to-reseller", operators: accountOperators,
		since: v1600, newReply: newResultsReply}
	opChangeOwner = &Op{name: OpChangeOwner, element: "change-owner", operators: accountOperators,
		since: v1600, newReply: newResultsReply}
)

// operations lists every Op in a stable order: AllOperations' order.
var operations = []*Op{
	opAdd, opGet, opSet, opDel,
	opGetLimits, opSetLimits, opGetPermissions, opSetPermissions,
	opGetIPPool, opIPPoolAddIP, opIPPoolDelIP, opButtonsList,
	opGetLimitDescriptor, opGetPermissionDescriptor,
	opConvertToReseller, opChangeOwner,
	opGetDomainList,
}

// Operations returns every operation, in a stable order.
func Operations() []*Op { return append([]*Op(nil), operations...) }

// Op returns the operation named o, or nil when there is none.
func (o Operation) Op() *Op {
	for _, op := range operations {
		if op.name == o {
			return op
		}
	}
	return nil
}

// ReplyAs returns rep as a T (*AddReply, *GetReply, …), or an error wrapping
// ErrMalformed when it is another type: replies read by position from a
// packet that did not hold what the caller thinks. No caller needs a type
// assertion, and a mix-up is an error, not a panic.
func ReplyAs[T Reply](rep Reply) (T, error) {
	t, ok := rep.(T)
	if !ok {
		var zero T
		return zero, &ParseError{Msg: fmt.Sprintf("reply is %T, want %T", rep, zero)}
	}
	return t, nil
}
