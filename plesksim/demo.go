package plesksim

import "slices"

// The demo data, defined once: `plesksim --demo` and pleskgate's sandbox
// both seed it through WithDemo, so their ids, logins, owners and passwords
// agree (README "The sandbox" lists them; cmd/pleskgate's
// TestSandboxAndPlesksimDemoSeedTheSameData checks it).

// DemoClientPassword is every demo client's password.
const DemoClientPassword = "demo-Pass1"

// DemoResellerLogin is the demo reseller; its password is the
// administrator's plus DemoResellerSuffix.
const (
	DemoResellerLogin  = "reseller"
	DemoResellerSuffix = "-r"
)

// DemoClient is one seeded client.
type DemoClient struct {
	Login, Name, Company, Email, City, Country string
	// ByReseller: owned by the first reseller (not seeded without one);
	// otherwise by the administrator.
	ByReseller bool
	// For names the Swagger UI example (openapi.yaml) that uses this client
	// up; such a client is kept for that example and nothing else reads it.
	// Empty for the clients to look at.
	For string
}

// DemoSeed is the demo clients in the order they are created, so in id
// order: with one reseller (id 2) jdoe is 3 and bulkdeleteme 11.
var DemoSeed = []DemoClient{
	{Login: "jdoe", Name: "John Doe", Company: "Example Corp.", Email: "jdoe@example.com", City: "Springfield", Country: "US"},
	{Login: "asmith", Name: "Alice Smith", Company: "Smith & Sons <Ltd>", Email: "alice@example.org", City: "Toronto", Country: "CA"},
	{Login: "bmuller", Name: "Bernd Müller", Email: "bernd@example.net", City: "Berlin", Country: "DE"},
	{Login: "rclient1", Name: "Reseller Client One", Company: "Reseller Co.", Email: "rc1@example.com", City: "Paris", Country: "FR", ByReseller: true},
	{Login: "rclient2", Name: "Reseller Client Two", Email: "rc2@example.com", City: "Madrid", Country: "ES", ByReseller: true},
	{Login: "deleteme", Name: "Delete Me", Email: "deleteme@example.com", City: "Springfield", Country: "US", For: "DELETE /clients/{id}"},
	{Login: "moveme", Name: "Move Me", Email: "moveme@example.com", City: "Springfield", Country: "US", For: "PUT /clients/{id}/owner"},
	{Login: "convertme", Name: "Convert Me", Email: "convertme@example.com", City: "Springfield", Country: "US", For: "POST /clients/{id}/convert-to-reseller"},
	{Login: "bulkdeleteme", Name: "Bulk Delete Me", Email: "bulkdeleteme@example.com", City: "Springfield", Country: "US", For: "DELETE /clients?login="},
}

// Demo service and reseller plans: change-owner's plan_name and
// convert-to-reseller's reseller_plan_name must name one of them.
var (
	DemoHostingPlans  = []string{"Default Domain", "Unlimited"}
	DemoResellerPlan  = Plan{Name: "Reseller Basic Hosting", Owner: DemoResellerLogin}
	DemoResellerPlans = []string{"Default Reseller", "Reseller Pro"}
)

// WithDemo returns cfg with the demo data added: the reseller
// DemoResellerLogin first (password: the administrator's plus
// DemoResellerSuffix) unless cfg names it already, the demo plans where cfg
// has none of its own kind, and DemoClients. The password policy is left
// as cfg has it.
func WithDemo(cfg Config) Config {
	admin := cfg.AdminPassword
	if admin == "" {
		admin = defaultAdminPassword
	}
	if !slices.ContainsFunc(cfg.Resellers, func(a Account) bool { return a.Login == DemoResellerLogin }) {
		cfg.Resellers = append([]Account{{Login: DemoResellerLogin, Password: admin + DemoResellerSuffix}}, cfg.Resellers...)
	}
	if len(cfg.HostingPlans) == 0 {
		cfg.HostingPlans = slices.Clone(DemoHostingPlans)
	}
	if !slices.ContainsFunc(cfg.Plans, func(p Plan) bool { return p.Name == DemoResellerPlan.Name }) {
		cfg.Plans = append([]Plan{DemoResellerPlan}, cfg.Plans...)
	}
	if len(cfg.ResellerPlans) == 0 {
		cfg.ResellerPlans = slices.Clone(DemoResellerPlans)
	}
	cfg.DemoClients = true
	return cfg
}

// seedDemo creates DemoSeed's clients (Config.DemoClients): those
// ByReseller for the first reseller, if there is one.
func (s *Server) seedDemo() {
	today := s.cfg.Now().Format("2006-01-02")
	admin := s.users[0].id
	reseller := 0
	for _, u := range s.users {
		if u.kind == kindReseller {
			reseller = u.id
			break
		}
	}
	for _, d := range DemoSeed {
		owner := admin
		if d.ByReseller {
			if reseller == 0 {
				continue
			}
			owner = reseller
		}
		if s.userByLogin(d.Login) != nil {
			continue
		}
		s.addClient(d.Login, DemoClientPassword, &client{pname: d.Name, cname: d.Company, email: d.Email, city: d.City,
			country: d.Country, locale: s.cfg.Locale, ownerID: owner, crDate: today, limits: map[string]int64{}, perms: map[string]bool{}})
	}
}
