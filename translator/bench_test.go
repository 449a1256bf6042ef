package translator

// Micro-benchmarks for docs/BENCHMARKS.md. Run them with
//
//	go test -run=NONE -bench=. -benchmem ./translator
//
// They carry no timing assertions: the figures are read by people, in
// docs/BENCHMARKS.md.

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// simGetModern is plesksim's answer (1.6.9.1, demo client "jdoe") to
// customer/get by id with gen_info: what GET /clients/{id} reads on a modern
// server. Captured from plesksim, so its shape (empty elements, an XML
// declaration, a trailing newline) is the one the gateway really decodes.
const simGetModern = `<?xml version="1.0" encoding="UTF-8"?>
<packet version="1.6.9.1"><customer><get><result><status>ok</status><filter-id>2</filter-id><id>2</id><data><gen_info><cr_date>2026-11-29</cr_date><cname>Example Corp.</cname><pname>John Doe</pname><login>jdoe</login><status>0</status><phone/><fax/><email>jdoe@example.com</email><address/><city>Springfield</city><state/><pcode/><country>US</country><locale/><guid>956aa9e3-0893-4410-944f-5c0567cf00f8</guid><owner-id>1</owner-id><owner-login>admin</owner-login><vendor-guid>fb477756-50fc-4338-9187-6a99a7c06d71</vendor-guid><external-id/><description/></gen_info></data></result></get></customer></packet>
`

// simGetModernStat is the same with the stat dataset (include=stat).
const simGetModernStat = `<?xml version="1.0" encoding="UTF-8"?>
<packet version="1.6.9.1"><customer><get><result><status>ok</status><filter-id>2</filter-id><id>2</id><data><gen_info><cr_date>2026-11-29</cr_date><cname>Example Corp.</cname><pname>John Doe</pname><login>jdoe</login><status>0</status><phone/><fax/><email>jdoe@example.com</email><address/><city>Springfield</city><state/><pcode/><country>US</country><locale/><guid>956aa9e3-0893-4410-944f-5c0567cf00f8</guid><owner-id>1</owner-id><owner-login>admin</owner-login><vendor-guid>fb477756-50fc-4338-9187-6a99a7c06d71</vendor-guid><external-id/><description/></gen_info><stat><active_domains>0</active_domains><subdomains>0</subdomains><disk_space>0</disk_space><postboxs>0</postboxs><redirects>0</redirects><mail_groups>0</mail_groups><mail_resps>0</mail_resps><mail_lists>0</mail_lists><web_users>0</web_users><data_bases>0</data_bases><traffic>0</traffic><traffic_prevday>0</traffic_prevday></stat></data></result></get></customer></packet>
`

// simGetLegacy is plesksim's answer (1.6.0.0) to client/get by id with gen_info.
const simGetLegacy = `<?xml version="1.0" encoding="UTF-8"?>
<packet version="1.6.0.0"><client><get><result><status>ok</status><filter-id>2</filter-id><id>2</id><data><gen_info><cr_date>2026-11-29</cr_date><cname>Example Corp.</cname><pname>John Doe</pname><login>jdoe</login><status>0</status><phone/><fax/><email>jdoe@example.com</email><address/><city>Springfield</city><state/><pcode/><country>US</country><locale/><owner-id>1</owner-id><owner-login>admin</owner-login></gen_info></data></result></get></client></packet>
`

// simProtos is a server/get_protos answer listing both dialects.
const simProtos = `<?xml version="1.0" encoding="UTF-8"?>
<packet version="1.6.9.1"><server><get_protos><result><status>ok</status><protos><proto>1.4.0.0</proto><proto>1.4.1.0</proto><proto>1.4.2.0</proto><proto>1.5.0.0</proto><proto>1.5.1.0</proto><proto>1.5.2.0</proto><proto>1.6.0.0</proto><proto>1.6.0.1</proto><proto>1.6.0.2</proto><proto>1.6.3.0</proto><proto>1.6.6.0</proto><proto>1.6.9.1</proto></protos></result></get_protos></server></packet>
`

// BenchmarkEncode encodes every request golden case (every operation, in
// every version it is tested in: both dialects where it exists in both).
func BenchmarkEncode(b *testing.B) {
	for _, c := range requestCases {
		for _, vs := range c.versions {
			v := MustParseVersion(vs)
			reqs := c.reqs()
			b.Run(c.name+"@"+vs, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := EncodeRequest(v, reqs...); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkDecode decodes every response fixture in testdata/responses (every
// operation's answer, both dialects, system errors included).
func BenchmarkDecode(b *testing.B) {
	files, err := filepath.Glob(filepath.Join("testdata", "responses", "*.xml"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no response fixtures: %v", err)
	}
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".xml")
		i := strings.Index(base, ".v")
		if i < 0 {
			b.Fatalf("%s: no version in name", f)
		}
		v := MustParseVersion(base[i+2:])
		reqs, ok := responseCases[base]
		if !ok {
			reqs, ok = responseCases[base[:i]]
		}
		if !ok {
			b.Fatalf("%s: no entry in responseCases", f)
		}
		body := readFile(b, f)
		b.Run(base, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				// System-error fixtures answer an error: that is the work measured.
				_, _ = DecodeResponse(v, body, reqs...)
			}
		})
	}
}

// BenchmarkGetProtos encodes and decodes server/get_protos, the one packet
// the gateway sends once at start in auto mode.
func BenchmarkGetProtos(b *testing.B) {
	body := []byte(simProtos)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = EncodeGetProtos()
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeGetProtos(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGetRoundTrip is the translator's share of GET /clients/{id}:
// encode get-by-id (gen_info) and decode plesksim's one-client answer.
func BenchmarkGetRoundTrip(b *testing.B) {
	cases := []struct {
		name string
		v    string
		req  *GetRequest
		body string
	}{
		{"modern@1.6.9.1", "1.6.9.1", &GetRequest{Filter: ByID(2), GenInfo: true}, simGetModern},
		{"modern+stat@1.6.9.1", "1.6.9.1", &GetRequest{Filter: ByID(2), GenInfo: true, Stat: true}, simGetModernStat},
		{"legacy@1.6.0.0", "1.6.0.0", &GetRequest{Filter: ByID(2), GenInfo: true}, simGetLegacy},
	}
	for _, c := range cases {
		v := MustParseVersion(c.v)
		body := []byte(c.body)
		// Check once, outside the loop, that the fixture decodes to one client.
		rep, err := DecodeResponse(v, body, c.req)
		if err != nil || len(rep[0].(*GetReply).Results) != 1 || rep[0].(*GetReply).Results[0].Client == nil {
			b.Fatalf("%s: fixture does not decode to one client: %v", c.name, err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				// A fresh request value per iteration, as the gateway builds one per call.
				req := &GetRequest{Filter: ByID(2), GenInfo: c.req.GenInfo, Stat: c.req.Stat}
				if _, err := EncodeRequest(v, req); err != nil {
					b.Fatal(err)
				}
				if _, err := DecodeResponse(v, body, req); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/encode-only", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := EncodeRequest(v, &GetRequest{Filter: ByID(2), GenInfo: c.req.GenInfo, Stat: c.req.Stat}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/decode-only", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := DecodeResponse(v, body, c.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeGetList decodes a blank-filter get answer of n clients in
// plesksim's shape, to show that decoding is linear in the client count
// (ns/op and allocs/op divided by n should stay flat).
func BenchmarkDecodeGetList(b *testing.B) {
	v := MustParseVersion("1.6.9.1")
	for _, n := range []int{1, 10, 100, 1000, 10000} {
		body := getListBody(n)
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				rep, err := DecodeResponse(v, body, &GetRequest{GenInfo: true})
				if err != nil {
					b.Fatal(err)
				}
				if len(rep[0].(*GetReply).Results) != n {
					b.Fatalf("decoded %d clients, want %d", len(rep[0].(*GetReply).Results), n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/client")
		})
	}
}

// BenchmarkEachGetResult reads the same answers as BenchmarkDecodeGetList
// the listing's way, one result at a time, keeping only the ids: the
// allocated bytes per op against the body show what a listing holds.
func BenchmarkEachGetResult(b *testing.B) {
	v := MustParseVersion("1.6.9.1")
	for _, n := range []int{1000, 10000} {
		body := getListBody(n)
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				ids := make([]int, 0, n)
				err := EachGetResult(v, body, &GetRequest{GenInfo: true}, func(r GetResult) error {
					ids = append(ids, r.Result.ID)
					return nil
				})
				if err != nil || len(ids) != n {
					b.Fatalf("%d ids, %v", len(ids), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/client")
		})
	}
}

// getListBody builds a 1.6.9.1 customer/get answer with n clients, each
// result shaped like simGetModern's.
func getListBody(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<packet version="1.6.9.1"><customer><get>`)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&sb, `<result><status>ok</status><id>%d</id><data><gen_info><cr_date>2026-11-29</cr_date><cname>Example Corp.</cname><pname>Client %d</pname><login>client%d</login><status>0</status><phone/><fax/><email>client%d@example.com</email><address/><city>Springfield</city><state/><pcode/><country>US</country><locale/><guid>956aa9e3-0893-4410-944f-%012d</guid><owner-id>1</owner-id><owner-login>admin</owner-login><vendor-guid>fb477756-50fc-4338-9187-6a99a7c06d71</vendor-guid><external-id/><description/></gen_info></data></result>`, i+1, i, i, i, i)
	}
	sb.WriteString("</get></customer></packet>\n")
	return []byte(sb.String())
}
