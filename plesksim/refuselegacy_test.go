package plesksim

import (
	"strings"
	"testing"
)

func TestRefuseLegacy(t *testing.T) {
	s := newSim(t, Config{RefuseLegacy: true})
	// get_protos still lists the old versions.
	_, protos := post(t, s, asAdmin, `<packet><server><get_protos/></server></packet>`)
	if !strings.Contains(protos, "<proto>1.6.0.2</proto>") || !strings.Contains(protos, "<proto>1.6.9.1</proto>") {
		t.Fatalf("get_protos no longer lists old and new versions: %s", protos)
	}
	// A versioned <client> is refused with REC-2's words, and nothing runs.
	_, out := post(t, s, asAdmin, `<packet version="1.6.0.2">
<client><get><filter/><dataset><gen_info/></dataset></get></client></packet>`)
	want := "<errcode>1014</errcode><errtext>Parser error: Request is invalid. Error in line 2: Element 'client': This element is not expected. Expected is one of ( request-settings, server, customer, webspace, subdomain, dns, db_server, mail, certificate, site-alias ).</errtext>"
	if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " ")) || !strings.Contains(out, "<system>") {
		t.Fatalf("legacy packet not refused as REC-2 recorded:\n%s", out)
	}
	if n := s.Stats().Operations["client/get"]; n != 0 {
		t.Fatalf("refused packet executed %d client/get", n)
	}
	// The modern operator works as before.
	_, out = post(t, s, asAdmin, `<packet version="1.6.9.1"><customer><get><filter/><dataset><gen_info/></dataset></get></customer></packet>`)
	if strings.Contains(out, "<system>") || !strings.Contains(out, "<customer>") {
		t.Fatalf("modern packet affected: %s", out)
	}
	// Without the switch the same legacy packet runs.
	plain := newSim(t, Config{})
	_, out = post(t, plain, asAdmin, `<packet version="1.6.0.2"><client><get><filter/><dataset><gen_info/></dataset></get></client></packet>`)
	if strings.Contains(out, "<system>") {
		t.Fatalf("legacy packet refused without the switch: %s", out)
	}
}
