package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
)

// cpuByLabel sums the CPU time of a runtime/pprof CPU profile by the value
// of one sample label (samples without it count under ""). Only the few
// fields it needs of profile.proto are read: Profile.sample (2),
// Profile.string_table (6), Sample.value (2), Sample.label (3), Label.key (1)
// and Label.str (2). The CPU value is the last of each sample's values
// (samples/count, cpu/nanoseconds).
func cpuByLabel(gz []byte, key string) (map[string]int64, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	type sample struct {
		cpu      int64
		keys     []int64
		strs     []int64
		hasValue bool
	}
	var (
		samples []sample
		strtab  []string
	)
	err = pbFields(raw, func(field int, wire int, v uint64, b []byte) error {
		switch {
		case field == 2 && wire == 2:
			var s sample
			err := pbFields(b, func(f, w int, v uint64, b []byte) error {
				switch {
				case f == 2 && w == 0:
					s.cpu, s.hasValue = int64(v), true
				case f == 2 && w == 2: // packed values
					for len(b) > 0 {
						x, n := uvarint(b)
						if n <= 0 {
							return errors.New("bad packed value")
						}
						s.cpu, s.hasValue, b = int64(x), true, b[n:]
					}
				case f == 3 && w == 2:
					var k, str int64
					if err := pbFields(b, func(f, w int, v uint64, _ []byte) error {
						if w == 0 && f == 1 {
							k = int64(v)
						} else if w == 0 && f == 2 {
							str = int64(v)
						}
						return nil
					}); err != nil {
						return err
					}
					s.keys, s.strs = append(s.keys, k), append(s.strs, str)
				}
				return nil
			})
			if err != nil {
				return err
			}
			samples = append(samples, s)
		case field == 6 && wire == 2:
			strtab = append(strtab, string(b))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, s := range samples {
		label := ""
		for i, k := range s.keys {
			if int(k) < len(strtab) && strtab[k] == key && int(s.strs[i]) < len(strtab) {
				label = strtab[s.strs[i]]
			}
		}
		out[label] += s.cpu
	}
	return out, nil
}

// pbFields calls fn for each field of a protobuf message: varints as v,
// length-delimited fields as b. Fixed-width fields are skipped.
func pbFields(b []byte, fn func(field, wire int, v uint64, b []byte) error) error {
	for len(b) > 0 {
		tag, n := uvarint(b)
		if n <= 0 {
			return errors.New("bad tag")
		}
		b = b[n:]
		field, wire := int(tag>>3), int(tag&7)
		switch wire {
		case 0:
			v, n := uvarint(b)
			if n <= 0 {
				return errors.New("bad varint")
			}
			b = b[n:]
			if err := fn(field, wire, v, nil); err != nil {
				return err
			}
		case 1:
			if len(b) < 8 {
				return errors.New("short fixed64")
			}
			b = b[8:]
		case 2:
			l, n := uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return errors.New("bad length")
			}
			if err := fn(field, wire, 0, b[n:n+int(l)]); err != nil {
				return err
			}
			b = b[n+int(l):]
		case 5:
			if len(b) < 4 {
				return errors.New("short fixed32")
			}
			b = b[4:]
		default:
			return errors.New("unsupported wire type")
		}
	}
	return nil
}

func uvarint(b []byte) (uint64, int) {
	var x uint64
	var s uint
	for i, c := range b {
		if i == 10 {
			return 0, -1
		}
		if c < 0x80 {
			return x | uint64(c)<<s, i + 1
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	return 0, 0
}
