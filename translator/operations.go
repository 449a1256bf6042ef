package translator

import (
	"cmp"
	"fmt"
	"slices"
)

// An Op is one operation of the client accounts operator (§7), stated once:
// its name, its operation element, its operator element in each dialect,
// whether it only reads, the protocol versions that have it and its typed
// reply. How its request is built is the build method of the request type
// that names it (Request.Op), and how its answer is read the read method of
// its reply type, which decodes each <result> into a wire struct of its
// own; the Op is registered (register) in that same file, next to them.
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

// operations lists every registered Op, sorted by name: Operations' order,
// whatever order the files register in.
var operations []*Op

// register adds op to the operations and returns it. Each operation
// registers itself from the file of its request type
// (var opX = register(&Op{…})), so a new operation touches that file only.
// Two operations of one name panic at start-up.
func register(op *Op) *Op {
	i, found := slices.BinarySearchFunc(operations, op.name, byName)
	if found {
		panic("translator: operation " + string(op.name) + " registered twice")
	}
	operations = slices.Insert(operations, i, op)
	return op
}

func byName(o *Op, n Operation) int { return cmp.Compare(o.name, n) }

// Operations returns every operation, in a stable order: by name.
func Operations() []*Op { return append([]*Op(nil), operations...) }

// Op returns the operation named o, or nil when there is none.
func (o Operation) Op() *Op {
	i, found := slices.BinarySearchFunc(operations, o, byName)
	if !found {
		return nil
	}
	return operations[i]
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
