package translator

import "testing"

// BenchmarkEncodeOracle is BenchmarkEncode through marshalPacket, the
// encoding/xml encoder EncodeRequest used before append.go: run both in one
// go to compare them under the same machine load.
func BenchmarkEncodeOracle(b *testing.B) {
	for _, c := range requestCases {
		for _, vs := range c.versions {
			v := MustParseVersion(vs)
			reqs := c.reqs()
			b.Run(c.name+"@"+vs, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := marshalPacket(v, reqs); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkEncodeGetByID interleaves the append encoder and the oracle on
// GET /clients/{id}'s packet (a fresh request per iteration, as in
// BenchmarkGetRoundTrip).
func BenchmarkEncodeGetByID(b *testing.B) {
	for _, vs := range []string{"1.6.9.1", "1.6.0.0"} {
		v := MustParseVersion(vs)
		for _, enc := range []struct {
			name string
			fn   func(Version, ...Request) ([]byte, error)
		}{
			{"append", EncodeRequest},
			{"oracle", func(v Version, reqs ...Request) ([]byte, error) { return marshalPacket(v, reqs) }},
		} {
			b.Run(vs+"/"+enc.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := enc.fn(v, &GetRequest{Filter: ByID(2), GenInfo: true}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
