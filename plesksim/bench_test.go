package plesksim

// Benchmarks of the simulator's own cost, for docs/BENCHMARKS.md: pleskbench
// runs the simulator in the same process as the gateway, so its cost is part
// of the figures there. Run with
//
//	go test -run=NONE -bench=. -benchmem ./plesksim
//
// No timing assertions.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const benchPassword = "bench-Secret-1"

func benchPost(b *testing.B, s *Server, packet string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, AgentPath, strings.NewReader(packet))
	r.Header.Set("HTTP_AUTH_LOGIN", "admin")
	r.Header.Set("HTTP_AUTH_PASSWD", benchPassword)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "<status>error</status>") {
		b.Fatalf("%d %.300s", w.Code, w.Body)
	}
	return w
}

func benchSim(b *testing.B, clients int) *Server {
	s, err := New(Config{AdminPassword: benchPassword, DemoClients: true})
	if err != nil {
		b.Fatal(err)
	}
	for have := len(s.Clients()); have < clients; {
		var sb strings.Builder
		sb.WriteString(`<packet version="1.6.9.1"><customer>`)
		for k := 0; k < 100 && have < clients; k, have = k+1, have+1 {
			fmt.Fprintf(&sb, `<add><gen_info><cname>Bench &amp; Sons</cname><pname>Bench %d</pname><login>bench%06d</login><passwd>bench-Pass1</passwd><email>b%d@example.com</email></gen_info></add>`, have, have, have)
		}
		sb.WriteString(`</customer></packet>`)
		benchPost(b, s, sb.String())
	}
	return s
}

// BenchmarkGetByID is the packet behind GET /clients/{id}.
func BenchmarkGetByID(b *testing.B) {
	s := benchSim(b, 0)
	pkt := fmt.Sprintf(`<packet version="1.6.9.1"><customer><get><filter><id>%d</id></filter><dataset><gen_info></gen_info></dataset></get></customer></packet>`, s.Clients()[0].ID)
	b.ReportAllocs()
	for b.Loop() {
		benchPost(b, s, pkt)
	}
}

// BenchmarkGetAll is the blank-filter get behind every GET /clients page;
// ns/client should stay flat as the count grows.
func BenchmarkGetAll(b *testing.B) {
	for _, n := range []int{1000, 5000, 10000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			s := benchSim(b, n)
			b.ReportAllocs()
			for b.Loop() {
				benchPost(b, s, `<packet version="1.6.9.1"><customer><get><filter/><dataset><gen_info></gen_info></dataset></get></customer></packet>`)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/client")
		})
	}
}

// BenchmarkLimitDescriptor is the legacy packet behind GET /descriptors/limits
// on a cache miss.
func BenchmarkLimitDescriptor(b *testing.B) {
	s := benchSim(b, 0)
	b.ReportAllocs()
	for b.Loop() {
		benchPost(b, s, `<packet version="1.6.0.2"><client><get-limit-descriptor><filter/></get-limit-descriptor></client></packet>`)
	}
}

// BenchmarkSHA256Crypt is the cost of one new password's gen_info hash.
func BenchmarkSHA256Crypt(b *testing.B) {
	for b.Loop() {
		sha256Crypt("demo-Pass1", "0123456789abcdef")
	}
}
