package plesksim

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// defaultAdminPassword is the administrator's password when Config gives none.
const defaultAdminPassword = "setup"

// Account is a login/password pair of a user that exists when the simulator starts.
type Account struct{ Login, Password string }

// Config configures a Server. Zero values get the documented defaults.
type Config struct {
	Protocol      string    // newest version answered; default "1.6.9.1". Every known version from 1.0.0.0 up to it is accepted.
	AdminLogin    string    // default "admin"
	AdminPassword string    // default "setup"
	Resellers     []Account // resellers that exist at start (they can log in and own clients)
	IPs           []string  // the server's IP addresses; default 192.0.2.10-12 and 2001:db8::10
	Keys          []string  // secret keys accepted as the administrator (header KEY)
	ResellerPlans []string  // default {"Default Reseller"}; convert-to-reseller reseller-plan-name must be one
	HostingPlans  []string  // the administrator's service plans; default {"Default Domain"} unless Plans names one of the admin's
	Plans         []Plan    // more service plans, each owned by the administrator or a reseller; change-owner plan-name must be one of the new owner's
	// Locale is the server's default locale, given to clients added
	// without one; default "en-US" [REC-1].
	Locale string
	// PleskVersion is the panel version that server get (stat, key)
	// reports; default "18.0.41" (REC-2's Obsidian).
	PleskVersion string
	// PasswordPolicy is the password strength new and changed client
	// passwords must have. The zero value is PasswordPolicyOff (tests);
	// the plesksim command defaults to DefaultPasswordPolicy.
	PasswordPolicy PasswordPolicy
	DemoClients    bool // seed DemoSeed: clients owned by admin (and by the first reseller if any); WithDemo adds the rest of the demo
	Faults         Faults
	RefuseLegacy   bool             // list old versions but refuse every <client> packet with REC-2's 1014 (refuselegacy.go)
	Now            func() time.Time // default time.Now (for cr_date)
	// RefuseLegacyResult: list old versions, accept a <client> packet's
	// envelope, and answer each of its operations with Plesk 17.8.11's
	// result-level 1017 naming the packet's version (REC-3; refuselegacy.go).
	RefuseLegacyResult bool
	// Workers, when > 0, is how many packets are processed at once (a
	// panel's PHP workers); the others wait in FIFO order (workers.go).
	Workers int
	// Domains are created at start, after the demo's, for clients that
	// exist by then (plesksim --domain; domains.go).
	Domains []DomainSpec
}

// Plan is a service (hosting) plan. Owner is the login of the reseller that
// owns it; "" means the administrator.
type Plan struct{ Name, Owner string }

// FaultKind selects how an injected fault breaks a response.
type FaultKind string

// Fault kinds. FaultHTTP500 and FaultDrop happen before the packet is executed;
// FaultMalformed, FaultTruncated and FaultReset damage the answer of a packet
// that was executed (the state changed, the caller cannot know it).
const (
	FaultNone      FaultKind = ""
	FaultHTTP500   FaultKind = "http500"   // HTTP 500 with a short text body
	FaultMalformed FaultKind = "malformed" // HTTP 200 whose body is not well-formed XML
	FaultTruncated FaultKind = "truncated" // HTTP 200, complete HTTP message, body cut in the middle of the XML
	FaultDrop      FaultKind = "drop"      // hijack and close the connection without answering
	FaultReset     FaultKind = "reset"     // send headers and part of the body, then close the connection
)

// Faults configures fault injection.
type Faults struct {
	Latency time.Duration // added before every request is handled; honours request cancellation
	Kind    FaultKind
	Rate    float64 // fraction 0..1 of requests hit by Kind; Kind set with Rate 0 means 1
}

// Stats counts traffic.
type Stats struct {
	Requests   int64            // HTTP requests to agent.php
	Operations map[string]int64 // executed operations: "customer/get", "client/get-limit-descriptor", "server/get_protos", ...
}

// Client is a snapshot of one client (customer) account.
type Client struct {
	ID                                                     int
	GUID, Login, Name, Company, Email, Phone, Fax, Address string
	City, State, PostalCode, Country, Locale, ExternalID   string
	Description                                            string
	Status                                                 int
	OwnerID                                                int
	OwnerLogin                                             string
	CreatedDate                                            string // YYYY-MM-DD
	IPPool                                                 []string
	Limits                                                 map[string]int64 // only limits set explicitly (legacy set)
	Permissions                                            map[string]bool  // only permissions set explicitly (legacy set)
}

// AgentPath is the only path the simulator serves.
const AgentPath = "/enterprise/control/agent.php"

// MaxBodyBytes bounds the request body; larger bodies get HTTP 413.
const MaxBodyBytes = 4 << 20

// user is the administrator, a reseller or a client; they share one ID space
// as in Plesk's `clients` table.
type user struct {
	kind     userKind
	id       int
	login    string
	password string
	guid     string
	pwHash   string  // crypt hash of password, computed when the password is set
	c        *client // kind == kindClient
	extID    string  // external id (resellers converted from clients keep theirs)
	plan     string  // reseller plan (resellers)
}

type userKind int

const (
	kindAdmin userKind = iota
	kindReseller
	kindClient
)

// Server is the simulator. It is an http.Handler and safe for concurrent use.
type Server struct {
	cfg      Config
	versions []version         // accepted, ascending
	schemas  map[version]*decl // packet declaration per accepted version
	newest   version

	mu      sync.Mutex // guards everything below
	users   []*user    // admin first, then resellers and clients in ID order
	byLogin map[string]*user
	byID    map[int]*user
	nextID  int
	faults  Faults
	reqs    int64
	ops     map[string]int64
	randSrc func() float64
	salt    string            // crypt salt of this server's password hashes
	hashes  map[string]string // password → hash memo (bounded, see passwordHash)
	workers *workerGate       // nil without Config.Workers (workers.go)
}

// New returns a simulator configured by cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Protocol == "" {
		cfg.Protocol = "1.6.9.1"
	}
	if cfg.AdminLogin == "" {
		cfg.AdminLogin = "admin"
	}
	if cfg.AdminPassword == "" {
		cfg.AdminPassword = defaultAdminPassword
	}
	if len(cfg.IPs) == 0 {
		cfg.IPs = []string{"192.0.2.10", "192.0.2.11", "192.0.2.12", "2001:db8::10"}
	}
	if len(cfg.ResellerPlans) == 0 {
		cfg.ResellerPlans = []string{"Default Reseller"}
	}
	adminPlans := len(cfg.HostingPlans) > 0
	for _, p := range cfg.Plans {
		if p.Name == "" {
			return nil, errors.New("plesksim: service plan with empty name")
		}
		if p.Owner == "" || p.Owner == cfg.AdminLogin {
			adminPlans = true
		}
	}
	if !adminPlans {
		cfg.HostingPlans = []string{"Default Domain"}
	}
	if cfg.Locale == "" {
		cfg.Locale = "en-US"
	}
	if cfg.PleskVersion == "" {
		cfg.PleskVersion = "18.0.41"
	}
	if _, err := ParsePasswordPolicy(string(cfg.PasswordPolicy)); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	newest, ok := parseExact(cfg.Protocol)
	if !ok || !slices.Contains(knownVersions, newest) {
		return nil, fmt.Errorf("plesksim: unknown protocol version %q (known: %s ... %s)", cfg.Protocol, knownVersions[0], knownVersions[len(knownVersions)-1])
	}
	if err := validateFaults(cfg.Faults); err != nil {
		return nil, err
	}
	for _, p := range cfg.Plans {
		if p.Owner == "" || p.Owner == cfg.AdminLogin {
			continue
		}
		if !slices.ContainsFunc(cfg.Resellers, func(a Account) bool { return a.Login == p.Owner }) {
			return nil, fmt.Errorf("plesksim: plan %q: owner %q is not a reseller", p.Name, p.Owner)
		}
	}
	s := &Server{cfg: cfg, newest: newest, schemas: map[version]*decl{}, byLogin: map[string]*user{}, byID: map[int]*user{}, ops: map[string]int64{}, faults: cfg.Faults}
	for _, v := range knownVersions {
		if v.cmp(newest) <= 0 {
			s.versions = append(s.versions, v)
			s.schemas[v] = packetSchema(v)
		}
	}
	s.randSrc = defaultRand
	s.workers = newWorkerGate(cfg.Workers)
	s.salt = newSalt()
	s.nextID = 1
	admin := &user{kind: kindAdmin, id: s.allocID(), login: cfg.AdminLogin, password: cfg.AdminPassword, guid: newGUID()}
	s.insertUser(admin)
	seen := map[string]bool{admin.login: true}
	for _, r := range cfg.Resellers {
		if r.Login == "" {
			return nil, errors.New("plesksim: reseller with empty login")
		}
		if seen[r.Login] {
			return nil, fmt.Errorf("plesksim: duplicate login %q", r.Login)
		}
		seen[r.Login] = true
		s.insertUser(&user{kind: kindReseller, id: s.allocID(), login: r.Login, password: r.Password, guid: newGUID(), plan: cfg.ResellerPlans[0]})
	}
	if cfg.DemoClients {
		s.seedDemo()
	}
	for _, o := range simOps {
		if o.seed == nil {
			continue
		}
		if err := o.seed(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) allocID() int {
	id := s.nextID
	s.nextID++
	return id
}

// SetFaults replaces the fault configuration. Invalid kinds are ignored (treated as none).
func (s *Server) SetFaults(f Faults) {
	if validateFaults(f) != nil {
		f.Kind = FaultNone
	}
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Requests: s.reqs, Operations: make(map[string]int64, len(s.ops))}
	for k, v := range s.ops {
		st.Operations[k] = v
	}
	return st
}

// ResetStats zeroes the counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	s.reqs = 0
	s.ops = map[string]int64{}
	s.mu.Unlock()
}

// Versions lists every protocol version the simulator accepts, ascending.
func (s *Server) Versions() []string {
	out := make([]string, len(s.versions))
	for i, v := range s.versions {
		out[i] = v.String()
	}
	return out
}

// Clients returns a snapshot of every client account, sorted by ID.
func (s *Server) Clients() []Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Client
	for _, u := range s.users {
		if u.kind == kindClient {
			out = append(out, s.snapshot(u))
		}
	}
	return out
}

// ClientPassword returns the password of the client with this login (tests only).
func (s *Server) ClientPassword(login string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u.kind == kindClient && u.login == login {
			return u.password, true
		}
	}
	return "", false
}

// SetPassword changes the password of any user (administrator, reseller or
// client) with this login, as an administrator changing it in the panel
// would; false when there is none. Tests use it to revoke credentials.
func (s *Server) SetPassword(login, password string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userByLogin(login)
	if u == nil {
		return false
	}
	u.password = password
	if u.pwHash != "" {
		u.pwHash = s.passwordHash(password)
	}
	return true
}

// ServeHTTP serves AgentPath; every other path is 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != AgentPath {
		http.NotFound(w, r)
		return
	}
	s.serveAgent(w, r)
}
