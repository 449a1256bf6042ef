package main

import (
	"io"
	"testing"

	"github.com/pleskgate/pleskgate/plesksim"
)

func TestParseFidelityFlags(t *testing.T) {
	o, err := parseFlags([]string{"--reseller", "r1:p1", "--plan", "Gold", "--plan", "Silver:r1", "--reseller-plan", "Res Gold",
		"--password-policy", "strong", "--locale", "de-DE", "--plesk-version", "11.5.30"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	if len(c.Plans) != 2 || c.Plans[0] != (plesksim.Plan{Name: "Gold"}) || c.Plans[1] != (plesksim.Plan{Name: "Silver", Owner: "r1"}) ||
		len(c.ResellerPlans) != 1 || c.ResellerPlans[0] != "Res Gold" || c.PasswordPolicy != plesksim.PasswordPolicyStrong ||
		c.Locale != "de-DE" || c.PleskVersion != "11.5.30" {
		t.Fatalf("parsed %+v", c)
	}
	if _, err := plesksim.New(c); err != nil {
		t.Fatal(err)
	}
	d, err := parseFlags(nil, io.Discard)
	if err != nil || d.cfg.PasswordPolicy != plesksim.DefaultPasswordPolicy || d.cfg.Locale != "en-US" || d.cfg.PleskVersion != "18.0.41" {
		t.Fatalf("defaults %+v %v", d.cfg, err)
	}
	for _, bad := range [][]string{{"--password-policy", "extreme"}, {"--plan", ":r1"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if _, err := plesksim.New(plesksim.Config{Plans: []plesksim.Plan{{Name: "X", Owner: "ghost"}}}); err == nil {
		t.Error("plan of an unknown reseller accepted")
	}
}
