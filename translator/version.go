package translator

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Version is a Plesk XML API protocol version such as "1.6.9.1". It holds up
// to four numeric parts and remembers how many were given, so a partial
// version ("1.6", "1.6.5", accepted by Plesk as "latest 1.6.x.x", §1.2) prints
// back as given. Missing parts compare as 0. The zero Version has no parts.
type Version struct {
	parts [4]uint32
	n     int
}

// ParseVersion parses "1", "1.6", "1.6.5" or "1.6.9.1". Each part must be a
// non-empty run of ASCII digits that fits in 32 bits; signs, spaces, empty
// parts and more than four parts are rejected.
func ParseVersion(s string) (Version, error) {
	var v Version
	if s == "" {
		return v, errors.New("translator: empty protocol version")
	}
	fields := strings.Split(s, ".")
	if len(fields) > len(v.parts) {
		return v, fmt.Errorf("translator: protocol version %q has more than 4 parts", s)
	}
	for i, f := range fields {
		if f == "" {
			return v, fmt.Errorf("translator: protocol version %q has an empty part", s)
		}
		for _, c := range f {
			if c < '0' || c > '9' {
				return v, fmt.Errorf("translator: protocol version %q: part %q is not a number", s, f)
			}
		}
		n, err := strconv.ParseUint(f, 10, 32)
		if err != nil {
			return v, fmt.Errorf("translator: protocol version %q: part %q out of range", s, f)
		}
		v.parts[i] = uint32(n)
	}
	v.n = len(fields)
	return v, nil
}

// MustParseVersion is ParseVersion that panics on error; for constants and tests.
func MustParseVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

// String returns the version with as many parts as were given.
func (v Version) String() string {
	var b strings.Builder
	for i := 0; i < v.n; i++ {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatUint(uint64(v.parts[i]), 10))
	}
	return b.String()
}

// Parts reports how many parts the version was given with (0 for the zero Version).
func (v Version) Parts() int { return v.n }

// IsZero reports whether v is the zero Version (no parts).
func (v Version) IsZero() bool { return v.n == 0 }

// Compare returns -1, 0 or +1; missing parts count as 0, so "1.6" == "1.6.0.0".
func (v Version) Compare(o Version) int {
	for i := range v.parts {
		switch {
		case v.parts[i] < o.parts[i]:
			return -1
		case v.parts[i] > o.parts[i]:
			return 1
		}
	}
	return 0
}

// Less reports whether v < o.
func (v Version) Less(o Version) bool { return v.Compare(o) < 0 }

// AtLeast reports whether v >= o.
func (v Version) AtLeast(o Version) bool { return v.Compare(o) >= 0 }

// HasPrefix reports whether the first p.Parts() parts of v equal those of p:
// "1.6.5.0".HasPrefix("1.6.5") is true. It matches Plesk's handling of partial
// versions in requests (§1.2). Missing parts of v count as 0; a zero p is a
// prefix of everything.
func (v Version) HasPrefix(p Version) bool {
	for i := 0; i < p.n; i++ {
		if v.parts[i] != p.parts[i] {
			return false
		}
	}
	return true
}

// Dialect is the generation of the client accounts operator.
type Dialect int

const (
	// DialectClient is the legacy "client" operator, protocol < 1.6.3.0 (§8).
	DialectClient Dialect = iota + 1
	// DialectCustomer is the modern "customer" operator, protocol >= 1.6.3.0 (§8).
	DialectCustomer
)

// Operator returns the client accounts operator element of d: "client" or
// "customer" (the operators of every operation in Operations, §8).
func (d Dialect) Operator() string {
	if d < DialectClient || d > DialectCustomer {
		return ""
	}
	return accountOperators[d]
}

// String returns "legacy" or "modern".
func (d Dialect) String() string {
	switch d {
	case DialectClient:
		return "legacy"
	case DialectCustomer:
		return "modern"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// Protocol versions at which the operator and its operations change (§8).
var (
	v1400 = MustParseVersion("1.4.0.0") // filter by login; add template-name/-id
	v1420 = MustParseVersion("1.4.2.0") // filter-id in results
	v1500 = MustParseVersion("1.5.0.0") // limits/permissions as name/value pairs; descriptors
	v1600 = MustParseVersion("1.6.0.0") // owners; convert-to-reseller, change-owner
	v1630 = MustParseVersion("1.6.3.0") // customer operator (Plesk 10.0)
	v1660 = MustParseVersion("1.6.6.0") // owner-external-id, description (XSD-1.6.6)
	v1691 = MustParseVersion("1.6.9.1") // stat/webapps removed
)

// Dialect returns DialectClient for v < 1.6.3.0 and DialectCustomer otherwise
// (§8). A partial version compares with its missing parts as 0, so "1.6" is
// legacy here even though Plesk would read it as "the latest 1.6.x.x": callers
// that want the modern operator must say at least "1.6.3".
func (v Version) Dialect() Dialect {
	if v.Less(v1630) {
		return DialectClient
	}
	return DialectCustomer
}

// KnownVersions lists, ascending, every protocol version from 1.0.0.0 to
// 1.6.9.1 we believe exists. Evidence per entry (PROTOCOL.md §8 and §15
// "Versions seen"):
//
//	[REC] recorded or quoted from real servers: 1.6.0.2, 1.6.3.0, 1.6.3.2,
//	      1.6.3.5 (Plesk 11.5), 1.6.6.0, 1.6.9.0, 1.6.9.1
//	[DOC] Plesk's code and docs: 1.0.0.0 1.1.0.0 1.2.0.0 1.3.0.0 1.3.5.0
//	      1.4.1.1 1.4.1.2 (the get_protos sample), 1.3.5.1 (Plesk 9.3),
//	      1.6.0.1 (Plesk 9.0), 1.6.3.1 (Plesk 10.1), 1.6.4.0 (WHMCS V1640),
//	      1.4.0.0 1.4.1.0 1.4.2.0 1.5.0.0 1.5.2.0 1.6.0.0 1.6.3.4 1.6.7.0 1.6.8.0
//	[INF] 1.3.1.0 … 1.3.4.0 (the sample's "1.3.0.0 … 1.3.5.0" range);
//	      1.6.5.0 (S3 tests ask for the "1.6.5" prefix)
//	[GUESS] 1.5.1.0 1.5.2.1 1.6.3.3: no source names them
var KnownVersions = mustParseVersions(
	"1.0.0.0", "1.1.0.0", "1.2.0.0",
	"1.3.0.0", "1.3.1.0", "1.3.2.0", "1.3.3.0", "1.3.4.0", "1.3.5.0", "1.3.5.1",
	"1.4.0.0", "1.4.1.0", "1.4.1.1", "1.4.1.2", "1.4.2.0",
	"1.5.0.0", "1.5.1.0", "1.5.2.0", "1.5.2.1",
	"1.6.0.0", "1.6.0.1", "1.6.0.2",
	"1.6.3.0", "1.6.3.1", "1.6.3.2", "1.6.3.3", "1.6.3.4", "1.6.3.5",
	"1.6.4.0", "1.6.5.0", "1.6.6.0", "1.6.7.0", "1.6.8.0", "1.6.9.0", "1.6.9.1",
)

func mustParseVersions(ss ...string) []Version {
	out := make([]Version, len(ss))
	for i, s := range ss {
		out[i] = MustParseVersion(s)
	}
	return out
}

// Operation is a logical capability the REST side needs. It drives version
// choice (PickVersion) and names the operation in errors. It is not always a
// Plesk element name: the get-*/set-* limits and permissions capabilities are
// datasets of get and set.
type Operation string

// The operations of the client/customer operator (§7).
const (
	OpAdd                     Operation = "add"
	OpGet                     Operation = "get"
	OpSet                     Operation = "set"
	OpDel                     Operation = "del"
	OpGetLimits               Operation = "get-limits"
	OpSetLimits               Operation = "set-limits"
	OpGetPermissions          Operation = "get-permissions"
	OpSetPermissions          Operation = "set-permissions"
	OpGetIPPool               Operation = "get-ippool"
	OpIPPoolAddIP             Operation = "ippool_add_ip"
	OpIPPoolDelIP             Operation = "ippool_del_ip"
	OpButtonsList             Operation = "cform_buttons_list"
	OpGetLimitDescriptor      Operation = "get-limit-descriptor"
	OpGetPermissionDescriptor Operation = "get-permission-descriptor"
	OpConvertToReseller       Operation = "convert-to-reseller"
	OpChangeOwner             Operation = "change-owner"
)

// Supports reports whether protocol v has op (§8; see its Op's SupportedBy).
// Unknown operations are unsupported.
func (v Version) Supports(op Operation) bool {
	o := op.Op()
	return o != nil && o.SupportedBy(v)
}

// PickVersion returns the newest version in listed (any order) that supports
// op, and false when none does.
func PickVersion(listed []Version, op Operation) (Version, bool) {
	var best Version
	found := false
	for _, v := range listed {
		if !v.Supports(op) {
			continue
		}
		if !found || v.Compare(best) > 0 {
			best, found = v, true
		}
	}
	return best, found
}
