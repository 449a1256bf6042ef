// Command plesksim serves the plesksim simulator of Plesk's XML API
// (POST /enterprise/control/agent.php) over HTTP, or HTTPS with --tls-cert
// and --tls-key.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pleskgate/pleskgate/internal/buildinfo"
	"github.com/pleskgate/pleskgate/plesksim"
)

// errVersionShown ends the program with status 0 after --version.
var errVersionShown = errors.New("version shown")

// usageText is the top of --help, before the flags.
const usageText = `plesksim: a simulator of Plesk's XML API, to develop and test against without a
panel. It answers POST /enterprise/control/agent.php as Plesk would for the
customer operator (the legacy client operator below protocol 1.6.3.0) and
<server><get_protos/>, over every protocol version from 1.0.0.0 up to
--protocol: it checks the HTTP_AUTH_LOGIN/HTTP_AUTH_PASSWD or KEY headers and
each packet against the version's schema, keeps its state in memory (lost on
exit), and can add latency and faults (--latency, --fault) to rehearse
failures. --demo seeds the demo data pleskgate's sandbox has: the reseller
"reseller" (password: the administrator's plus "-r"), demo clients with the
password "` + plesksim.DemoClientPassword + `", and a few plans.

Usage: plesksim [flags]

Flags:
`

type options struct {
	listen          string
	demo            bool
	tlsCert, tlsKey string
	cfg             plesksim.Config
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("plesksim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	showVersion := fs.Bool("version", false, "print the version, commit and Go version, and exit")
	fs.StringVar(&o.listen, "listen", ":8880", "address to serve on (Plesk's plain-HTTP port is 8880)")
	fs.StringVar(&o.cfg.Protocol, "protocol", "1.6.9.1", "newest protocol version answered (every known version from 1.0.0.0 up to it is accepted)")
	fs.StringVar(&o.cfg.AdminLogin, "admin-login", "admin", "administrator login")
	fs.StringVar(&o.cfg.AdminPassword, "admin-password", "setup", "administrator password")
	fs.Func("reseller", "reseller LOGIN:PASSWORD (repeatable)", func(v string) error {
		login, pass, ok := strings.Cut(v, ":")
		if !ok || login == "" {
			return errors.New("want LOGIN:PASSWORD")
		}
		o.cfg.Resellers = append(o.cfg.Resellers, plesksim.Account{Login: login, Password: pass})
		return nil
	})
	fs.Func("ip", "server IP address (repeatable; default 192.0.2.10-12, 2001:db8::10)", func(v string) error {
		o.cfg.IPs = append(o.cfg.IPs, v)
		return nil
	})
	fs.Func("key", "secret key accepted as the administrator, header KEY (repeatable)", func(v string) error {
		o.cfg.Keys = append(o.cfg.Keys, v)
		return nil
	})
	fs.BoolVar(&o.demo, "demo", false, "seed the demo data of pleskgate's sandbox (reseller \"reseller\", demo clients, plans)")
	fs.Var(refuseLegacyFlag{&o.cfg}, "refuse-legacy", "list old protocol versions but refuse the legacy <client> operator in them: bare or =system-1014, every <client> packet gets system error 1014 (as Plesk Obsidian answers an unversioned <client>); =result-1017, the packet is accepted and each <client> operation gets result error 1017 \"This feature is not supported for protocol version V.\" (as Plesk 17.8 answers an outdated version); =off (default), neither")
	fs.Func("plan", "service plan NAME[:OWNER] for change-owner plan-name; OWNER a --reseller login, default the admin (repeatable)", func(v string) error {
		name, owner, _ := strings.Cut(v, ":")
		if name == "" {
			return errors.New("want NAME[:OWNER]")
		}
		o.cfg.Plans = append(o.cfg.Plans, plesksim.Plan{Name: name, Owner: owner})
		return nil
	})
	fs.Func("domain", "a domain CLIENT_LOGIN:NAME[:TYPE] of a client that exists at start (--demo's); TYPE domain (default), alias (of the client's main domain) or subdomain (of the client's domain it ends in) (repeatable)", func(v string) error {
		d, err := plesksim.ParseDomainSpec(v)
		o.cfg.Domains = append(o.cfg.Domains, d)
		return err
	})
	fs.Func("reseller-plan", "reseller plan NAME for convert-to-reseller (repeatable; default \"Default Reseller\")", func(v string) error {
		o.cfg.ResellerPlans = append(o.cfg.ResellerPlans, v)
		return nil
	})
	o.cfg.PasswordPolicy = plesksim.DefaultPasswordPolicy
	fs.Func("password-policy", "minimum password strength: off, weak, medium, strong (default "+string(plesksim.DefaultPasswordPolicy)+")", func(v string) error {
		p, err := plesksim.ParsePasswordPolicy(v)
		o.cfg.PasswordPolicy = p
		return err
	})
	fs.StringVar(&o.cfg.Locale, "locale", "en-US", "default locale of clients added without one")
	fs.StringVar(&o.cfg.PleskVersion, "plesk-version", "18.0.41", "panel version server get reports")
	fs.DurationVar(&o.cfg.Faults.Latency, "latency", 0, "added latency per request")
	fs.IntVar(&o.cfg.Workers, "workers", 0, "at most N packets processed at once, the others wait in FIFO order (0: unbounded)")
	var kind string
	fs.StringVar(&kind, "fault", "", "fault kind: http500, malformed, truncated, drop, reset")
	fs.Float64Var(&o.cfg.Faults.Rate, "fault-rate", 0, "fraction 0..1 of requests hit by --fault (0 with --fault set means all)")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "TLS certificate file (serve HTTPS with --tls-key)")
	fs.StringVar(&o.tlsKey, "tls-key", "", "TLS key file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if *showVersion {
		return o, errVersionShown
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return o, errors.New("--tls-cert and --tls-key go together")
	}
	o.cfg.Faults.Kind = plesksim.FaultKind(kind)
	if o.demo {
		o.cfg = plesksim.WithDemo(o.cfg)
	}
	return o, nil
}

// refuseLegacyFlag is --refuse-legacy: a switch that, bare, keeps its first
// meaning (REC-2's system 1014) and takes =result-1017 for the 17.8 form.
type refuseLegacyFlag struct{ cfg *plesksim.Config }

func (f refuseLegacyFlag) IsBoolFlag() bool { return true }

func (f refuseLegacyFlag) String() string {
	switch {
	case f.cfg == nil:
		return "off"
	case f.cfg.RefuseLegacy:
		return "system-1014"
	case f.cfg.RefuseLegacyResult:
		return "result-1017"
	}
	return "off"
}

func (f refuseLegacyFlag) Set(v string) error {
	switch v {
	case "true", "system-1014":
		f.cfg.RefuseLegacy, f.cfg.RefuseLegacyResult = true, false
	case "result-1017":
		f.cfg.RefuseLegacy, f.cfg.RefuseLegacyResult = false, true
	case "false", "off":
		f.cfg.RefuseLegacy, f.cfg.RefuseLegacyResult = false, false
	default:
		return errors.New("want system-1014, result-1017 or off")
	}
	return nil
}

// statusRecorder remembers the status for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *statusRecorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }
func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// accessLog logs one line per request: no headers, so no credentials.
func accessLog(l *log.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(http.ResponseWriter(rec), r)
		l.Printf("%s %s %s status=%d bytes=%d dur=%s", r.RemoteAddr, r.Method, r.URL.Path, rec.status, rec.bytes, time.Since(start).Round(time.Microsecond))
	})
}

// run serves until ctx ends; ready, when set, learns the bound address.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(net.Addr)) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	sim, err := plesksim.New(o.cfg)
	if err != nil {
		return err
	}
	l := log.New(stderr, "plesksim ", log.LstdFlags)
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: accessLog(l, sim), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	scheme := "http"
	if o.tlsCert != "" {
		scheme = "https"
	}
	l.Printf("serving %s://%s%s (protocol up to %s)", scheme, ln.Addr(), plesksim.AgentPath, sim.Versions()[len(sim.Versions())-1])
	go func() {
		if o.tlsCert != "" {
			errc <- srv.ServeTLS(ln, o.tlsCert, o.tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	if ready != nil {
		ready(ln.Addr())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	if errors.Is(err, errVersionShown) {
		fmt.Println(buildinfo.Get().String("plesksim"))
		return
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "plesksim:", err)
		os.Exit(1)
	}
}
