package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// processCPU is this process's user+system CPU time so far, in seconds
// (getrusage(RUSAGE_SELF): every thread, the GC included).
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// statusKB reads a "Name: N kB" field of /proc/PID/status (VmRSS, VmHWM).
func statusKB(pid int, name string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func mib(kb int64) float64 { return float64(kb) / 1024 }

// heapObjects is the bytes of heap memory occupied by objects, live or not
// yet swept (runtime/metrics; reading it does not stop the world).
func heapObjects() uint64 { return readMetric("/memory/classes/heap/objects:bytes") }

// heapAllocs is the cumulative bytes allocated on the heap.
func heapAllocs() uint64 { return readMetric("/gc/heap/allocs:bytes") }

func readMetric(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// heapPeak samples heapObjects every interval until stopped and keeps the
// largest value: the peak heap footprint of what ran meanwhile.
type heapPeak struct {
	base, peak uint64
	allocs0    uint64
	stop       chan struct{}
	done       sync.WaitGroup
}

// startHeapPeak forces a GC so that base is the live heap, then samples.
func startHeapPeak() *heapPeak {
	runtime.GC()
	h := &heapPeak{base: heapObjects(), allocs0: heapAllocs(), stop: make(chan struct{})}
	h.peak = h.base
	h.done.Add(1)
	go func() {
		defer h.done.Done()
		t := time.NewTicker(100 * time.Microsecond)
		defer t.Stop()
		for {
			if v := heapObjects(); v > h.peak {
				h.peak = v
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

// end stops sampling and returns the peak growth over the live baseline and
// the bytes allocated meanwhile.
func (h *heapPeak) end() (growth, allocated uint64) {
	if v := heapObjects(); v > h.peak {
		h.peak = v
	}
	close(h.stop)
	h.done.Wait()
	return h.peak - h.base, heapAllocs() - h.allocs0
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "?"
}

// startRSSPeak samples pid's VmRSS every 10 ms until the returned function
// is called, which returns the largest sample (KiB).
func startRSSPeak(pid int) func() int64 {
	var peak int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if r := statusKB(pid, "VmRSS"); r > peak {
				peak = r
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		return peak
	}
}
