package gateway

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pleskgate/pleskgate/translator"
)

func sampleClientInfo() translator.ClientInfo {
	owner := 1
	return translator.ClientInfo{
		CreatedDate: "2024-01-02", Company: "Acme", Name: "Jane Doe", Login: "jdoe", Status: 0,
		Phone: "+1 555", Fax: "", Email: "j@example.com", Address: "1 Main St", City: "Springfield", State: "IL",
		PostalCode: "62701", Country: "US", Locale: "en-US", GUID: "g-1", OwnerID: &owner, OwnerLogin: "admin",
		VendorGUID: "v-1", ExternalID: "ext-1", Description: "a client",
	}
}

// Every field of ClientInfo, whatever its kind, changes the ETag: the test
// walks the struct, so a field added later without being hashed fails it.
func TestClientInfoETagCoversEveryField(t *testing.T) {
	base := sampleClientInfo()
	etag := clientInfoETag(7, &base)
	if len(etag) != 26 || etag[0] != '"' || etag[25] != '"' || strings.Trim(etag[1:25], "0123456789abcdef") != "" {
		t.Fatalf("ETag %s is not in etagOf's format", etag)
	}
	if again := clientInfoETag(7, &base); again != etag {
		t.Fatalf("not stable: %s then %s", etag, again)
	}
	if other := clientInfoETag(8, &base); other == etag {
		t.Fatal("the id does not change the ETag")
	}
	typ := reflect.TypeOf(base)
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		variants := []translator.ClientInfo{base, base}
		for j := range variants {
			v := reflect.ValueOf(&variants[j]).Elem().Field(i)
			switch v.Kind() {
			case reflect.String:
				v.SetString([]string{v.String() + "x", ""}[j])
			case reflect.Int:
				v.SetInt(v.Int() + int64(j) + 1)
			case reflect.Pointer:
				if j == 0 {
					n := 2
					v.Set(reflect.ValueOf(&n))
				} else {
					v.Set(reflect.Zero(v.Type()))
				}
			default:
				t.Fatalf("field %s has kind %s, which this test (and clientInfoETag) does not know", f.Name, v.Kind())
			}
		}
		for _, changed := range variants {
			if reflect.DeepEqual(changed, base) {
				continue
			}
			if got := clientInfoETag(7, &changed); got == etag {
				t.Errorf("changing %s leaves the ETag %s", f.Name, etag)
			}
		}
	}
	// Moving text from one field to the next is a change too.
	a, b := base, base
	a.Company, a.Name = "ab", "c"
	b.Company, b.Name = "a", "bc"
	if clientInfoETag(7, &a) == clientInfoETag(7, &b) {
		t.Fatal("fields run together")
	}
}

func TestClientInfoETagAllocations(t *testing.T) {
	in := sampleClientInfo()
	if n := testing.AllocsPerRun(100, func() { _ = clientInfoETag(7, &in) }); n > 1 {
		t.Fatalf("%v allocations, want 1 (the string)", n)
	}
}
