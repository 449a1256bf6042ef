package main

import (
	"bytes"
	"context"
	"runtime/pprof"
	"testing"
)

// TestCPUByLabel profiles work done under two labels and checks that
// cpuByLabel attributes CPU to both. It spins until enough process CPU has
// been used for the 100 Hz profiler to take samples; nothing is timed.
func TestCPUByLabel(t *testing.T) {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Skip("CPU profiling unavailable:", err)
	}
	spin := func(name string) {
		pprof.Do(context.Background(), pprof.Labels("server", name), func(context.Context) {
			start := processCPU()
			x := 0
			for processCPU()-start < 0.15 {
				for i := range 100000 {
					x += i
				}
			}
			_ = x
		})
	}
	spin("one")
	spin("two")
	pprof.StopCPUProfile()
	by, err := cpuByLabel(buf.Bytes(), "server")
	if err != nil {
		t.Fatal(err)
	}
	if by["one"] <= 0 || by["two"] <= 0 {
		t.Fatalf("CPU by label %v: want both labels", by)
	}
}

func TestPBFields(t *testing.T) {
	// field 1 varint 150, field 2 bytes "hi", field 3 fixed64 (skipped).
	msg := []byte{0x08, 0x96, 0x01, 0x12, 0x02, 'h', 'i', 0x19, 1, 2, 3, 4, 5, 6, 7, 8}
	var got []string
	err := pbFields(msg, func(f, w int, v uint64, b []byte) error {
		switch {
		case f == 1 && w == 0 && v == 150:
			got = append(got, "varint")
		case f == 2 && w == 2 && string(b) == "hi":
			got = append(got, "bytes")
		}
		return nil
	})
	if err != nil || len(got) != 2 {
		t.Fatalf("got %v, %v", got, err)
	}
	if err := pbFields([]byte{0x12, 0x05, 'x'}, func(int, int, uint64, []byte) error { return nil }); err == nil {
		t.Error("truncated message accepted")
	}
}
