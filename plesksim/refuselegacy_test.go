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

// TestRefuseLegacyResult: with RefuseLegacyResult the simulator answers the
// way Plesk 17.8.11 did (PROTOCOL.md §15 REC-3): the legacy packet's
// envelope and version are accepted, and every <client> operation gets a
// result-level 1017 naming the packet's version; nothing runs.
func TestRefuseLegacyResult(t *testing.T) {
	s := newSim(t, Config{RefuseLegacyResult: true})
	_, protos := post(t, s, asAdmin, `<packet><server><get_protos/></server></packet>`)
	if !strings.Contains(protos, "<proto>1.6.0.2</proto>") {
		t.Fatalf("get_protos no longer lists the old versions: %s", protos)
	}
	_, out := post(t, s, asAdmin, `<packet version="1.6.0.2">
<client><get><filter/><dataset><gen_info/></dataset></get><get-limit-descriptor><filter/></get-limit-descriptor></client></packet>`)
	flat := strings.Join(strings.Fields(out), " ")
	want := "<result><status>error</status><errcode>1017</errcode><errtext>This feature is not supported for protocol version 1.6.0.2.</errtext></result>"
	if strings.Contains(out, "<system>") || !strings.Contains(out, `<packet version="1.6.0.2">`) || strings.Count(flat, want) != 2 ||
		!strings.Contains(flat, "<get>"+want+"</get>") || !strings.Contains(flat, "<get-limit-descriptor>"+want+"</get-limit-descriptor>") {
		t.Fatalf("legacy operations not refused as REC-3 recorded:\n%s", out)
	}
	// A refused add creates nothing.
	_, out = post(t, s, asAdmin, `<packet version="1.6.0.2"><client><add><gen_info><pname>P</pname><login>refused17</login><passwd>pw-Refused-17!</passwd></gen_info></add></client></packet>`)
	if !strings.Contains(out, "<errcode>1017</errcode>") {
		t.Fatalf("legacy add not refused: %s", out)
	}
	_, out = post(t, s, asAdmin, `<packet version="1.6.9.1"><customer><get><filter><login>refused17</login></filter><dataset><gen_info/></dataset></get></customer></packet>`)
	if !strings.Contains(out, "<errcode>1013</errcode>") {
		t.Fatalf("a refused add created the client: %s", out)
	}
	// The modern operator works as before.
	_, out = post(t, s, asAdmin, `<packet version="1.6.9.1"><customer><add><gen_info><pname>P</pname><login>modern17</login><passwd>pw-Modern-17!</passwd></gen_info></add></customer></packet>`)
	if !strings.Contains(out, "<status>ok</status>") {
		t.Fatalf("modern packet affected: %s", out)
	}
}
