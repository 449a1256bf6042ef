package translator

import (
	"testing"
)

func TestParseVersion(t *testing.T) {
	for _, c := range []struct {
		in    string
		parts int
		ok    bool
	}{
		{"1.6.9.1", 4, true}, {"1.6", 2, true}, {"1.6.5", 3, true}, {"1", 1, true}, {"0.0.0.0", 4, true},
		{"01.6", 2, true}, {"4294967295.0", 2, true},
		{"", 0, false}, {"1..2", 0, false}, {".1", 0, false}, {"1.", 0, false}, {"1.2.3.4.5", 0, false},
		{"-1.6", 0, false}, {"+1.6", 0, false}, {"1.6a", 0, false}, {" 1.6", 0, false}, {"1.6 ", 0, false},
		{"a.b", 0, false}, {"4294967296", 0, false}, {"1,6", 0, false}, {"١.٦", 0, false},
	} {
		v, err := ParseVersion(c.in)
		if (err == nil) != c.ok {
			t.Errorf("ParseVersion(%q) err=%v, want ok=%v", c.in, err, c.ok)
			continue
		}
		if c.ok && v.Parts() != c.parts {
			t.Errorf("ParseVersion(%q).Parts()=%d", c.in, v.Parts())
		}
	}
	for _, s := range []string{"1.6", "1.6.5", "1.6.9.1", "1"} {
		if got := MustParseVersion(s).String(); got != s {
			t.Errorf("String(%q)=%q", s, got)
		}
	}
	if MustParseVersion("01.06").String() != "1.6" {
		t.Error("leading zeros should print canonically")
	}
	defer func() {
		if recover() == nil {
			t.Error("MustParseVersion did not panic")
		}
	}()
	MustParseVersion("junk")
}

func TestVersionCompare(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.6", "1.6.0.0", 0}, {"1.6.9.1", "1.6.9.0", 1}, {"1.4.2.0", "1.5", -1}, {"1.6.10", "1.6.9.1", 1},
		{"2", "1.9.9.9", 1}, {"1.6.3", "1.6.3.0", 0},
	} {
		if got := MustParseVersion(c.a).Compare(MustParseVersion(c.b)); got != c.want {
			t.Errorf("%s vs %s = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := MustParseVersion(c.b).Compare(MustParseVersion(c.a)); got != -c.want {
			t.Errorf("%s vs %s not antisymmetric", c.b, c.a)
		}
	}
}

func TestVersionHasPrefix(t *testing.T) {
	for _, c := range []struct {
		v, p string
		want bool
	}{
		{"1.6.5.0", "1.6.5", true}, {"1.6.5.3", "1.6.5", true}, {"1.6.5.0", "1.6", true}, {"1.6.9.1", "1.6.9.1", true},
		{"1.6.4.0", "1.6.5", false}, {"1.7.0.0", "1.6", false}, {"1.6.5.0", "1.6.5.1", false}, {"1.6", "1.6.5", false},
		{"1.6", "1.6.0", true},
	} {
		if got := MustParseVersion(c.v).HasPrefix(MustParseVersion(c.p)); got != c.want {
			t.Errorf("%s.HasPrefix(%s)=%v", c.v, c.p, got)
		}
	}
}

func TestDialect(t *testing.T) {
	for _, c := range []struct {
		v    string
		want Dialect
	}{
		{"1.4.0.0", DialectClient}, {"1.6.0.2", DialectClient}, {"1.6.2.9", DialectClient}, {"1.6", DialectClient},
		{"1.6.3.0", DialectCustomer}, {"1.6.3", DialectCustomer}, {"1.6.9.1", DialectCustomer}, {"2", DialectCustomer},
	} {
		if got := MustParseVersion(c.v).Dialect(); got != c.want {
			t.Errorf("%s.Dialect()=%v", c.v, got)
		}
	}
	if DialectClient.Operator() != "client" || DialectCustomer.Operator() != "customer" ||
		DialectClient.String() != "legacy" || DialectCustomer.String() != "modern" {
		t.Error("dialect names")
	}
}

func TestSupportsMatrix(t *testing.T) {
	crud := []Operation{OpAdd, OpGet, OpSet, OpDel}
	legacyOnly := []Operation{OpGetLimits, OpSetLimits, OpGetPermissions, OpSetPermissions, OpGetIPPool, OpIPPoolAddIP, OpIPPoolDelIP, OpButtonsList}
	desc := []Operation{OpGetLimitDescriptor, OpGetPermissionDescriptor}
	owner := []Operation{OpConvertToReseller, OpChangeOwner}
	domains := []Operation{OpGetDomainList} // answer documented from 1.6.8.0 (§7.12)
	want := map[string]map[Operation]bool{}
	set := func(v string, ops []Operation, on bool) {
		if want[v] == nil {
			want[v] = map[Operation]bool{}
		}
		for _, op := range ops {
			want[v][op] = on
		}
	}
	for _, v := range []string{"1.4.0.0", "1.4.2.0"} {
		set(v, crud, true)
		set(v, domains, false)
		set(v, legacyOnly, true)
		set(v, desc, false)
		set(v, owner, false)
	}
	for _, v := range []string{"1.5.0.0", "1.5.2.1"} {
		set(v, crud, true)
		set(v, domains, false)
		set(v, legacyOnly, true)
		set(v, desc, true)
		set(v, owner, false)
	}
	for _, v := range []string{"1.6.0.0", "1.6.0.2"} {
		set(v, crud, true)
		set(v, domains, false)
		set(v, legacyOnly, true)
		set(v, desc, true)
		set(v, owner, true)
	}
	for _, v := range []string{"1.6.3.0", "1.6.7.0", "1.6.8.0", "1.6.9.1"} {
		set(v, crud, true)
		set(v, legacyOnly, false)
		set(v, desc, false)
		set(v, owner, true)
		set(v, domains, v >= "1.6.8.0")
	}
	for v, ops := range want {
		if len(ops) != len(Operations()) {
			t.Fatalf("matrix row %s incomplete", v)
		}
		for op, w := range ops {
			if got := MustParseVersion(v).Supports(op); got != w {
				t.Errorf("%s.Supports(%s)=%v, want %v", v, op, got, w)
			}
		}
	}
	if MustParseVersion("1.6.9.1").Supports("frobnicate") {
		t.Error("unknown op supported")
	}
}

func TestKnownVersions(t *testing.T) {
	if len(KnownVersions) != 35 || KnownVersions[0].String() != "1.0.0.0" || KnownVersions[34].String() != "1.6.9.1" {
		t.Fatalf("KnownVersions = %v", KnownVersions)
	}
	for i := 1; i < len(KnownVersions); i++ {
		if KnownVersions[i-1].Compare(KnownVersions[i]) >= 0 {
			t.Errorf("not ascending at %s", KnownVersions[i])
		}
	}
	// Every operation exists in some known version.
	for _, op := range Operations() {
		if _, ok := PickVersion(KnownVersions, op.Name()); !ok {
			t.Errorf("no known version supports %s", op.Name())
		}
	}
}

func TestPickVersion(t *testing.T) {
	vs := func(ss ...string) []Version { return mustParseVersions(ss...) }
	for _, c := range []struct {
		listed []Version
		op     Operation
		want   string
	}{
		{KnownVersions, OpAdd, "1.6.9.1"},
		{KnownVersions, OpIPPoolAddIP, "1.6.0.2"},
		{KnownVersions, OpGetLimitDescriptor, "1.6.0.2"},
		{KnownVersions, OpChangeOwner, "1.6.9.1"},
		{vs("1.6.9.1", "1.4.2.0", "1.6.0.0", "1.5.2.0"), OpGetLimits, "1.6.0.0"}, // unordered input
		{vs("1.4.2.0", "1.5.0.0"), OpConvertToReseller, ""},
		{vs("1.4.2.0", "1.6.9.1"), OpGetLimitDescriptor, ""},
		{vs("1.4.1.0", "1.4.2.0"), OpButtonsList, "1.4.2.0"},
		{nil, OpGet, ""},
		// 1.0–1.3 (§15): the legacy operator without descriptors or owners.
		{vs("1.3.5.0", "1.0.0.0", "1.3.5.1", "1.2.0.0"), OpAdd, "1.3.5.1"},
		{vs("1.3.5.0", "1.0.0.0", "1.3.5.1"), OpIPPoolAddIP, "1.3.5.1"},
		{vs("1.3.5.0", "1.0.0.0", "1.3.5.1"), OpGetLimitDescriptor, ""},
		{vs("1.3.5.0", "1.0.0.0", "1.3.5.1"), OpChangeOwner, ""},
		{vs("1.4.1.2", "1.3.0.0", "1.4.1.1", "1.6.3.5", "1.6.0.2"), OpGetLimitDescriptor, "1.6.0.2"},
	} {
		got, ok := PickVersion(c.listed, c.op)
		if c.want == "" {
			if ok {
				t.Errorf("PickVersion(%v, %s) = %s, want none", c.listed, c.op, got)
			}
			continue
		}
		if !ok || got.String() != c.want {
			t.Errorf("PickVersion(%v, %s) = %s %v, want %s", c.listed, c.op, got, ok, c.want)
		}
	}
}
