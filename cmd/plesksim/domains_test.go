package main

import (
	"io"
	"reflect"
	"testing"

	"github.com/pleskgate/pleskgate/plesksim"
)

// TestParseFlagsDomain: --domain gives a demo client domains of its own,
// repeatable, with the type defaulting to domain; a malformed one is a
// flag error, and one for no client an error at start.
func TestParseFlagsDomain(t *testing.T) {
	o, err := parseFlags([]string{"--demo", "--domain", "bmuller:mueller.example", "--domain", "bmuller:www.mueller.example:subdomain",
		"--domain", "bmuller:muller.example:alias"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []plesksim.DomainSpec{{Client: "bmuller", Name: "mueller.example"}, {Client: "bmuller", Name: "www.mueller.example", Type: "subdomain"},
		{Client: "bmuller", Name: "muller.example", Type: "alias"}}
	if !reflect.DeepEqual(o.cfg.Domains, want) {
		t.Fatalf("parsed %+v", o.cfg.Domains)
	}
	s, err := plesksim.New(o.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d := s.ClientDomains("bmuller"); len(d) != 3 || !d[0].Main || d[1].ParentID != d[0].ID || d[2].Type != "alias" {
		t.Errorf("bmuller's domains %+v", d)
	}
	for _, bad := range [][]string{{"--domain", "bmuller"}, {"--domain", "bmuller:a.example:site"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	o, err = parseFlags([]string{"--domain", "bmuller:mueller.example"}, io.Discard) // no --demo: no bmuller
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plesksim.New(o.cfg); err == nil {
		t.Error("a domain of no client accepted")
	}
}
