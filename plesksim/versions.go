package plesksim

import (
	"fmt"
	"strconv"
	"strings"
)

// version is a four-part XML API protocol version.
type version [4]int

func (v version) String() string { return fmt.Sprintf("%d.%d.%d.%d", v[0], v[1], v[2], v[3]) }

func (v version) cmp(o version) int {
	for i := range v {
		if v[i] != o[i] {
			if v[i] < o[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

func (v version) atLeast(o version) bool { return v.cmp(o) >= 0 }

// knownVersions is every protocol version the simulator can speak, ascending
// (PROTOCOL.md §8 and §15 "Versions seen").
// [REC] recorded or quoted from real servers: 1.6.0.2, 1.6.3.0, 1.6.3.2,
// 1.6.3.5, 1.6.6.0, 1.6.9.0, 1.6.9.1.
// [DOC] Plesk's own code and docs: 1.0.0.0, 1.1.0.0, 1.2.0.0, 1.3.0.0,
// 1.3.5.0, 1.4.1.1, 1.4.1.2 (the documented get_protos sample), 1.3.5.1
// (Plesk 9.3 docs), 1.4.0.0, 1.4.1.0, 1.4.2.0, 1.5.0.0, 1.5.2.0, 1.6.0.0,
// 1.6.0.1 (Plesk 9.0 docs), 1.6.3.1 (Plesk 10.1), 1.6.3.4, 1.6.4.0 (WHMCS
// module V1640), 1.6.5.x (api-php-lib partial-version test), 1.6.7.0, 1.6.8.0.
// [INF] 1.3.1.0 … 1.3.4.0: the "1.3.0.0 … 1.3.5.0" range of the same sample.
// [GUESS] 1.5.1.0, 1.5.2.1, 1.6.3.3: plausible, no source names them.
var knownVersions = []version{
	{1, 0, 0, 0}, {1, 1, 0, 0}, {1, 2, 0, 0},
	{1, 3, 0, 0}, {1, 3, 1, 0}, {1, 3, 2, 0}, {1, 3, 3, 0}, {1, 3, 4, 0}, {1, 3, 5, 0}, {1, 3, 5, 1},
	{1, 4, 0, 0}, {1, 4, 1, 0}, {1, 4, 1, 1}, {1, 4, 1, 2}, {1, 4, 2, 0},
	{1, 5, 0, 0}, {1, 5, 1, 0}, {1, 5, 2, 0}, {1, 5, 2, 1},
	{1, 6, 0, 0}, {1, 6, 0, 1}, {1, 6, 0, 2},
	{1, 6, 3, 0}, {1, 6, 3, 1}, {1, 6, 3, 2}, {1, 6, 3, 3}, {1, 6, 3, 4}, {1, 6, 3, 5},
	{1, 6, 4, 0}, {1, 6, 5, 0}, {1, 6, 6, 0}, {1, 6, 7, 0}, {1, 6, 8, 0}, {1, 6, 9, 0}, {1, 6, 9, 1},
}

// Feature thresholds (PROTOCOL.md §8).
var (
	v1350 = version{1, 3, 5, 0} // gen_info password/password_type ("since 1.3.5", XSD annotation)
	v1400 = version{1, 4, 0, 0} // filter by login; add template-name/-id (1.3.x: filter by id only)
	v1420 = version{1, 4, 2, 0} // filter-id in results; last version with named-element limits
	v1500 = version{1, 5, 0, 0} // descriptors; <limit><name/><value/> pairs
	v1600 = version{1, 6, 0, 0} // convert-to-reseller, change-owner, owner-id/owner-login
	v1630 = version{1, 6, 3, 0} // customer operator replaces client
	v1660 = version{1, 6, 6, 0} // description, owner-external-id (XSD-1.6.6; absent at 1.6.3.5 [REC-1])
	v1690 = version{1, 6, 9, 0} // packet/request-settings [INF: "1.6.9.x input schema only"]
	v1691 = version{1, 6, 9, 1} // stat/webapps removed
)

// parseParts parses 1 to 4 dot-separated non-negative integers.
func parseParts(s string) ([]int, bool) {
	if s == "" {
		return nil, false
	}
	fields := strings.Split(s, ".")
	if len(fields) > 4 {
		return nil, false
	}
	parts := make([]int, len(fields))
	for i, f := range fields {
		if f == "" || len(f) > 6 || strings.TrimLeft(f, "0123456789") != "" {
			return nil, false
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, false
		}
		parts[i] = n
	}
	return parts, true
}

func parseExact(s string) (version, bool) {
	p, ok := parseParts(s)
	if !ok || len(p) != 4 {
		return version{}, false
	}
	return version{p[0], p[1], p[2], p[3]}, true
}

// resolveVersion maps the packet's version attribute to the effective version:
// absent → newest; four parts → exact match; fewer parts → the newest accepted
// version with that prefix ("1.6" → newest 1.6.x.x, "1.6.5" → newest 1.6.5.x).
func (s *Server) resolveVersion(attr string, present bool) (version, bool) {
	if !present {
		return s.newest, true
	}
	p, ok := parseParts(strings.TrimSpace(attr))
	if !ok {
		return version{}, false
	}
	for i := len(s.versions) - 1; i >= 0; i-- {
		v := s.versions[i]
		match := true
		for j, n := range p {
			if v[j] != n {
				match = false
				break
			}
		}
		if match {
			return v, true
		}
	}
	return version{}, false
}
