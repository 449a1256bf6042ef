package main

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/pleskgate/pleskgate/plesksim"
)

// demoUser is one account of a simulator as a caller sees it through the
// XML API: who it is, who owns it, and whether its password logs in.
type demoUser struct {
	ID       int
	Login    string
	Kind     string // administrator, reseller, client
	Owner    string // login of the owner; "" for the administrator and resellers
	Password string // the password that logged in
}

// demoUsers reads what a simulator at simURL holds, as its administrator:
// the administrator, the given reseller and every client, each with the
// password that logs in (checked by a get_protos packet in its name).
func demoUsers(t *testing.T, simURL, adminPassword, resellerPassword, clientPassword string) []demoUser {
	t.Helper()
	post := func(login, password, packet string) (int, string) {
		req, _ := http.NewRequest("POST", simURL+plesksim.AgentPath, strings.NewReader(packet))
		req.Header.Set("HTTP_AUTH_LOGIN", login)
		req.Header.Set("HTTP_AUTH_PASSWD", password)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	logsIn := func(login, password string) bool {
		code, body := post(login, password, `<packet><server><get_protos/></server></packet>`)
		return code == 200 && strings.Contains(body, "<status>ok</status>")
	}
	users := []demoUser{{ID: 1, Login: "admin", Kind: "administrator", Password: adminPassword}}
	if !logsIn("admin", adminPassword) {
		t.Fatalf("%s: admin / %s does not log in", simURL, adminPassword)
	}
	owners := map[int]string{0: "admin", 1: "admin"} // Plesk gives no owner-id for the administrator's clients
	if logsIn(plesksim.DemoResellerLogin, resellerPassword) {
		// The reseller's id: the owner-id of the clients it sees.
		_, body := post(plesksim.DemoResellerLogin, resellerPassword, `<packet version="1.6.9.1"><customer><get><filter/><dataset><gen_info/></dataset></get></customer></packet>`)
		m := regexp.MustCompile(`<owner-id>(\d+)</owner-id>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("%s: the reseller owns no client: %s", simURL, body)
		}
		id, _ := strconv.Atoi(m[1])
		owners[id] = plesksim.DemoResellerLogin
		users = append(users, demoUser{ID: id, Login: plesksim.DemoResellerLogin, Kind: "reseller", Password: resellerPassword})
	}
	code, body := post("admin", adminPassword, `<packet version="1.6.9.1"><customer><get><filter/><dataset><gen_info/></dataset></get></customer></packet>`)
	if code != 200 {
		t.Fatalf("%s: customer get: %d %s", simURL, code, body)
	}
	var answer struct {
		Results []struct {
			ID      int    `xml:"id"`
			Login   string `xml:"data>gen_info>login"`
			OwnerID int    `xml:"data>gen_info>owner-id"`
		} `xml:"customer>get>result"`
	}
	if err := xml.Unmarshal([]byte(body), &answer); err != nil {
		t.Fatalf("%s: %v", simURL, err)
	}
	for _, r := range answer.Results {
		u := demoUser{ID: r.ID, Login: r.Login, Kind: "client", Owner: owners[r.OwnerID]}
		if u.Owner == "" {
			u.Owner = fmt.Sprintf("id %d", r.OwnerID)
		}
		if logsIn(r.Login, clientPassword) {
			u.Password = clientPassword
		}
		users = append(users, u)
	}
	slices.SortFunc(users, func(a, b demoUser) int { return a.ID - b.ID })
	return users
}

// readmeSandboxTable reads README's table of the sandbox's data (section
// "The sandbox") for the sandbox password "demo".
func readmeSandboxTable(t *testing.T) []demoUser {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "### The sandbox")
	if start < 0 {
		t.Fatal(`README has no "### The sandbox"`)
	}
	row := regexp.MustCompile("^\\| (\\d+) \\| `([^`]+)` \\| (administrator|reseller|client)[^|]* \\| ([^|]+) \\| `([^`]+)`")
	var users []demoUser
	sc := bufio.NewScanner(strings.NewReader(text[start:]))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "### ") && len(users) > 0 {
			break
		}
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		id, _ := strconv.Atoi(m[1])
		owner := strings.TrimSpace(m[4])
		if m[3] != "client" {
			owner = ""
		}
		users = append(users, demoUser{ID: id, Login: m[2], Kind: m[3], Owner: owner, Password: m[5]})
	}
	if len(users) == 0 {
		t.Fatal("README's sandbox table has no rows")
	}
	return users
}

// The sandbox (cmd/pleskgate) and `plesksim --demo` (which compose runs)
// seed the same administrator, reseller, clients, ids, owners and
// passwords, and that is the README's table. Before plesksim.WithDemo,
// --demo seeded jdoe as id 2 with no reseller while the sandbox had it as 3.
func TestSandboxAndPlesksimDemoSeedTheSameData(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/plesksim")
	}
	const password = "demo"
	sandboxURL, stop, err := startSandbox(config{SandboxPassword: password, Listen: ":0"}, zap.NewNop(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	bin := filepath.Join(t.TempDir(), "plesksim")
	if out, err := exec.Command("go", "build", "-o", bin, "../plesksim").CombinedOutput(); err != nil {
		t.Fatalf("go build ../plesksim: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--demo", "--admin-password", password, "--listen", "127.0.0.1:0")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	serving := regexp.MustCompile(`serving (http://[^/ ]+)/`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := serving.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	var demoURL string
	select {
	case demoURL = <-found:
	case <-time.After(30 * time.Second):
		t.Fatal("plesksim --demo did not say where it serves")
	}

	rp, cp := password+plesksim.DemoResellerSuffix, plesksim.DemoClientPassword
	sandbox := demoUsers(t, sandboxURL, password, rp, cp)
	demo := demoUsers(t, demoURL, password, rp, cp)
	if !slices.Equal(sandbox, demo) {
		t.Errorf("the sandbox and plesksim --demo differ:\nsandbox %+v\n--demo  %+v", sandbox, demo)
	}
	readme := readmeSandboxTable(t)
	if !slices.Equal(sandbox, readme) {
		t.Errorf("the sandbox and README's table differ:\nsandbox %+v\nREADME  %+v", sandbox, readme)
	}
}
