package plesksim

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/net/idna"
)

// Customers' domains and customer/get-domain-list (PROTOCOL.md §7.12).
//
// A client owns domains: main domains (one per subscription), aliases of a
// domain and subdomains of one. They are seeded with the demo (DemoDomains)
// or by Config.Domains (plesksim --domain CLIENT_LOGIN:NAME[:TYPE]); the
// XML API of the simulator cannot create them. They go with their client:
// deleted with it, moved with it by change-owner.
//
// get-domain-list is in the customer operator's input schema from 1.6.7.0;
// below, it is an element the schema does not expect (system 1014, as every
// operation a version lacks). It answers one result per filter value, as
// get does (a value that selects no client visible to the caller is 1013:
// a reseller asking for another owner's client is not told it exists),
// with the 1.6.8.0+ output of §7.12: domains?(domain*(id, name,
// ascii-name, type, main, guid, external-id, parent-id?, domain-id?)).
//
// [GUESS] What the schema and PROTOCOL.md do not say, decided here:
//   - type: "domain" for a domain with hosting (the schema says only that it
//     is a string), "alias" for a domain alias, "subdomain" for a subdomain;
//   - main: true for a client's first domain of type "domain" (its
//     subscription's main domain), false for every other;
//   - parent-id: the domain an alias or a subdomain belongs to; absent for a
//     domain; domain-id is never written;
//   - external-id: always written, empty (nothing here sets one);
//   - <domains> is written, empty, for a client without domains;
//   - domain ids are a sequence of their own, from 1, apart from the ids of
//     clients and resellers;
//   - the answer at 1.6.7.0 (whose output schema has no get-domain-list) is
//     the 1.6.8.0 one;
//   - a subdomain's parent is the client's domain its name ends in; an
//     alias's parent is the client's main domain.

// v1670: get-domain-list enters the customer operator's input schema (§8).
var v1670 = version{1, 6, 7, 0}

// get-domain-list: the customer operator from 1.6.7.0, a filter as its
// only content; the demo's domains and Config.Domains are created at start.
var _ = registerOp(&simOp{name: "get-domain-list", pos: 120, run: (*opctx).domainList,
	schema: func(v version) ([]particle, bool) { return []particle{filterDecl(v)}, v.atLeast(v1670) },
	seed: func(s *Server) error {
		if s.cfg.DemoClients {
			_ = s.addDomains(DemoDomains, true) // consistent by construction (TestDemoDomains)
		}
		return s.addDomains(s.cfg.Domains, false)
	}})

// domainNames checks a domain name and gives its ASCII (IDNA) form: the
// lookup mapping, with DNS lengths checked (no empty label).
var domainNames = idna.New(idna.MapForLookup(), idna.VerifyDNSLength(true), idna.BidiRule())

// Domain types (the "type" element, [GUESS] above).
const (
	DomainTypeDomain    = "domain"
	DomainTypeAlias     = "alias"
	DomainTypeSubdomain = "subdomain"
)

// DomainSpec is a domain to create at start: Client is the owning
// client's login, Type one of the DomainType constants ("" = domain).
type DomainSpec struct{ Client, Name, Type string }

// ParseDomainSpec parses --domain's CLIENT_LOGIN:NAME[:TYPE].
func ParseDomainSpec(s string) (DomainSpec, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return DomainSpec{}, fmt.Errorf("want CLIENT_LOGIN:NAME[:TYPE], got %q", s)
	}
	d := DomainSpec{Client: parts[0], Name: parts[1]}
	if len(parts) == 3 {
		d.Type = parts[2]
	}
	if d.Type != "" && d.Type != DomainTypeDomain && d.Type != DomainTypeAlias && d.Type != DomainTypeSubdomain {
		return DomainSpec{}, fmt.Errorf("domain type %q: want domain, alias or subdomain", d.Type)
	}
	return d, nil
}

// DemoDomains are the demo clients' domains (README "The sandbox"): jdoe a
// main domain with an alias and a subdomain, and a second domain; asmith one
// domain with an IDN subdomain; the reseller's rclient1 one domain with an
// alias. The other demo clients have none.
var DemoDomains = []DomainSpec{
	{Client: "jdoe", Name: "jdoe.example", Type: DomainTypeDomain},
	{Client: "jdoe", Name: "www-jdoe.example", Type: DomainTypeAlias},
	{Client: "jdoe", Name: "blog.jdoe.example", Type: DomainTypeSubdomain},
	{Client: "jdoe", Name: "johndoe.example", Type: DomainTypeDomain},
	{Client: "asmith", Name: "smith-sons.example", Type: DomainTypeDomain},
	{Client: "asmith", Name: "bücher.smith-sons.example", Type: DomainTypeSubdomain},
	{Client: "rclient1", Name: "reseller-co.example", Type: DomainTypeDomain},
	{Client: "rclient1", Name: "resellerco.example", Type: DomainTypeAlias},
}

// domain is one domain of a client (client.domains).
type domain struct {
	id               int
	name, ascii, typ string
	main             bool
	guid             string
	parentID         int // 0: none
}

// Domain is a snapshot of one domain.
type Domain struct {
	ID              int
	Name, ASCIIName string
	Type            string
	Main            bool
	GUID            string
	ParentID        int // 0: none
}

// addDomains creates specs in order (s.mu held or not yet shared). A
// client that does not exist when required is an error, unless skipMissing
// (the demo's reseller clients without a reseller).
func (s *Server) addDomains(specs []DomainSpec, skipMissing bool) error {
	for _, sp := range specs {
		u := s.userByLogin(sp.Client)
		if u == nil || u.kind != kindClient {
			if skipMissing {
				continue
			}
			return fmt.Errorf("plesksim: domain %q: no client %q", sp.Name, sp.Client)
		}
		if err := s.addDomain(u, sp); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) addDomain(u *user, sp DomainSpec) error {
	typ := sp.Type
	if typ == "" {
		typ = DomainTypeDomain
	}
	ascii, err := domainNames.ToASCII(sp.Name)
	if err != nil {
		return fmt.Errorf("plesksim: domain %q: %v", sp.Name, err)
	}
	maxID := 0
	for _, o := range s.users {
		if o.c == nil {
			continue
		}
		for _, d := range o.c.domains {
			if d.ascii == ascii {
				return fmt.Errorf("plesksim: domain %q exists", sp.Name)
			}
			maxID = max(maxID, d.id)
		}
	}
	d := &domain{id: maxID + 1, name: sp.Name, ascii: ascii, typ: typ, guid: newGUID()}
	switch typ {
	case DomainTypeDomain:
		d.main = !slices.ContainsFunc(u.c.domains, func(o *domain) bool { return o.typ == DomainTypeDomain })
	case DomainTypeAlias:
		i := slices.IndexFunc(u.c.domains, func(o *domain) bool { return o.main })
		if i < 0 {
			return fmt.Errorf("plesksim: alias %q: client %q has no main domain", sp.Name, u.login)
		}
		d.parentID = u.c.domains[i].id
	case DomainTypeSubdomain:
		i := slices.IndexFunc(u.c.domains, func(o *domain) bool {
			return o.typ == DomainTypeDomain && strings.HasSuffix(ascii, "."+o.ascii)
		})
		if i < 0 {
			return fmt.Errorf("plesksim: subdomain %q: client %q has no domain it belongs to", sp.Name, u.login)
		}
		d.parentID = u.c.domains[i].id
	}
	u.c.domains = append(u.c.domains, d)
	return nil
}

// ClientDomains returns a snapshot of the domains of the client with this
// login, in the order they were created; nil when there is no such client.
func (s *Server) ClientDomains(login string) []Domain {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userByLogin(login)
	if u == nil || u.c == nil {
		return nil
	}
	out := []Domain{}
	for _, d := range u.c.domains {
		out = append(out, Domain{ID: d.id, Name: d.name, ASCIIName: d.ascii, Type: d.typ, Main: d.main, GUID: d.guid, ParentID: d.parentID})
	}
	return out
}

// domainList answers customer/get-domain-list.
func (x *opctx) domainList(op *node) {
	x.eachTarget(op.child("filter"), func(fid string, hasFid bool, u *user) {
		if u == nil {
			x.notFound(fid, hasFid)
			return
		}
		x.ok(fid, hasFid, u.id, func() {
			if len(u.c.domains) == 0 {
				x.w.empty("domains")
				return
			}
			x.w.open("domains")
			for _, d := range u.c.domains {
				x.w.open("domain")
				x.w.leafInt("id", int64(d.id))
				x.w.leaf("name", d.name)
				x.w.leaf("ascii-name", d.ascii)
				x.w.leaf("type", d.typ)
				x.w.leaf("main", fmt.Sprint(d.main))
				x.w.leaf("guid", d.guid)
				x.w.leaf("external-id", "")
				if d.parentID > 0 {
					x.w.leafInt("parent-id", int64(d.parentID))
				}
				x.w.close("domain")
			}
			x.w.close("domains")
		})
	})
}
