package plesksim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The gateway pages GET /clients with a get whose dataset is empty (ids
// only) and then a get by up to 1,000 ids. Both must answer like the scan
// they replace: one result per filter value, in order; 1013 for ids that are
// not a visible client (the administrator, resellers, another reseller's
// client, deleted ones); no data blocks for an empty dataset.
func TestGetByIDsAndEmptyDataset(t *testing.T) {
	for _, v := range []string{"1.4.2.0", "1.6.0.0", "1.6.9.1"} {
		t.Run(v, func(t *testing.T) {
			op := operatorFor(v)
			cfg := Config{}
			if mustV(v).atLeast(v1600) {
				cfg.Resellers = []Account{{"res1", "r1pass"}}
			}
			s := newSim(t, cfg)
			var ids []int
			for i := range 30 {
				ids = append(ids, addClient(t, s, asAdmin, v, fmt.Sprintf("c%02d", i)))
			}
			gone := ids[7]
			admin(t, s, pk(v, `<del><filter><id>`+strconv.Itoa(gone)+`</id></filter></del>`))

			// Ids only: every visible client, with its id and nothing else.
			root := admin(t, s, pk(v, `<get><filter/><dataset/></get>`))
			rs := results(root, op, "get")
			if len(rs) != len(ids)-1 {
				t.Fatalf("%d results for %d clients", len(rs), len(ids)-1)
			}
			for _, r := range rs {
				wantOK(t, r)
				if d := r.child("data"); d != nil && len(d.children) > 0 {
					t.Fatalf("empty dataset answered data %v", names(d.children))
				}
			}
			if got := texts(root, op+"/get/result/id"); slices.Contains(got, strconv.Itoa(gone)) {
				t.Fatalf("deleted id listed: %v", got)
			}

			// By id: one result per value, in the order sent, duplicates included.
			values := []string{strconv.Itoa(ids[3]), "1", strconv.Itoa(gone), "+" + strconv.Itoa(ids[0]), strconv.Itoa(ids[3]), "999999"}
			var filter strings.Builder
			for _, val := range values {
				filter.WriteString("<id>" + val + "</id>")
			}
			root = admin(t, s, pk(v, `<get><filter>`+filter.String()+`</filter><dataset><gen_info/></dataset></get>`))
			rs = results(root, op, "get")
			if len(rs) != len(values) {
				t.Fatalf("%d results for %d values", len(rs), len(values))
			}
			wantID := []int{ids[3], 0, 0, ids[0], ids[3], 0}
			for i, r := range rs {
				if wantID[i] == 0 {
					wantErr(t, r, "1013")
					continue
				}
				wantOK(t, r)
				if got := text1(t, r, "id"); got != strconv.Itoa(wantID[i]) {
					t.Fatalf("result %d: id %s, want %d", i, got, wantID[i])
				}
				if got := text1(t, r, "data/gen_info/login"); got != fmt.Sprintf("c%02d", slices.Index(ids, wantID[i])) {
					t.Fatalf("result %d: login %s", i, got)
				}
			}
			if !mustV(v).atLeast(v1600) {
				return
			}
			// A reseller gets 1013 for clients it does not own, found by id.
			mine := addClient(t, s, as("res1", "r1pass"), v, "mine")
			root = call(t, s, as("res1", "r1pass"), pk(v, fmt.Sprintf(`<get><filter><id>%d</id><id>%d</id></filter><dataset/></get>`, ids[0], mine)))
			rs = results(root, op, "get")
			wantErr(t, rs[0], "1013")
			wantOK(t, rs[1])
		})
	}
}
