package plesksim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// System (check-up) error codes and texts (PROTOCOL.md §1.3, §9).
const (
	errAuthFailed     = 1001
	errVersion        = 1005
	errPermission     = 1006
	errExists         = 1007
	errAccountOff     = 1011
	errNotFound       = 1013
	errParse          = 1014
	errOwnerNotFound  = 1015
	errIPNotFound     = 1018
	errInvalidValue   = 1019
	errWrongStatus    = 1025
	errNoAuthMethod   = 1029
	errSecretKeyCheck = 11003
)

func defaultRand() float64 { return rand.Float64() }

func validateFaults(f Faults) error {
	switch f.Kind {
	case FaultNone, FaultHTTP500, FaultMalformed, FaultTruncated, FaultDrop, FaultReset:
	default:
		return fmt.Errorf("plesksim: unknown fault kind %q", f.Kind)
	}
	if f.Rate < 0 || f.Rate > 1 {
		return fmt.Errorf("plesksim: fault rate %v outside 0..1", f.Rate)
	}
	if f.Latency < 0 {
		return fmt.Errorf("plesksim: negative latency %v", f.Latency)
	}
	return nil
}

// serveAgent handles one request to agent.php. Check-up order follows
// PROTOCOL.md §1.3: HTTP method, protocol version, authentication, packet
// validity; a failure is a <system> error and nothing is executed.
func (s *Server) serveAgent(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reqs++
	f := s.faults
	roll := s.randSrc
	s.mu.Unlock()

	// The body is read before the latency so that the server notices a
	// client that gives up (net/http watches the connection only after the
	// body was consumed).
	var body []byte
	var readErr error
	if r.Method == http.MethodPost {
		body, readErr = io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	}
	if g := s.workers; g != nil {
		if !g.acquire(r.Context()) {
			return
		}
		defer g.release()
		if g.held != nil {
			g.held(body)
		}
	}
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	kind := FaultNone
	if f.Kind != FaultNone && (f.Rate <= 0 || roll() < f.Rate) {
		kind = f.Kind
	}
	switch kind {
	case FaultHTTP500:
		http.Error(w, "Internal Server Error (plesksim fault injection)", http.StatusInternalServerError)
		return
	case FaultDrop:
		hijackClose(w, nil)
		return
	}

	// Decision: a non-POST request is answered 405 with Allow: POST (Plesk's
	// behaviour is undocumented; agent.php only reads POST bodies).
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "agent.php accepts only POST", http.StatusMethodNotAllowed)
		return
	}
	if err := readErr; err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read request body", http.StatusBadRequest)
		return
	}
	out := s.handlePacket(r, body)

	switch kind {
	case FaultMalformed:
		out = malform(out)
	case FaultTruncated:
		out = out[:len(out)/2]
	case FaultReset:
		hijackClose(w, out)
		return
	}
	// [REC-1] Content-Type text/xml and Server sw-cp-server, as recorded
	// (that server answered chunked; a Content-Length is kept here).
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Server", "sw-cp-server")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// handlePacket runs the check-ups and the packet; it never panics.
func (s *Server) handlePacket(r *http.Request, body []byte) (out []byte) {
	attr, present := sniffVersion(body)
	echo := attr
	if !present {
		echo = s.newest.String()
	}
	defer func() {
		if p := recover(); p != nil {
			out = systemError(echo, errParse, fmt.Sprintf("Internal error: %v", p))
		}
	}()
	v, ok := s.resolveVersion(attr, present)
	if !ok {
		return systemError(echo, errVersion, "XML API protocol version not supported.")
	}
	caller, code, text := s.authenticate(r)
	if code != 0 {
		return systemError(echo, code, text)
	}
	root, err := parseTree(body)
	if err != nil {
		var pe *parseError
		errors.As(err, &pe)
		return systemError(echo, errParse, fmt.Sprintf("Parser error: Request is invalid. Error in line %d: %s", pe.line, pe.msg))
	}
	if s.cfg.RefuseLegacy {
		if out, refused := refuseLegacyOperator(echo, root); refused {
			return out
		}
	}
	if ve := validateRoot(root, s.schemas[v]); ve != nil {
		return systemError(echo, errParse, fmt.Sprintf("Parser error: Request is invalid. Error in line %d: %s", ve.line, ve.msg))
	}
	return s.execute(echo, v, caller, root)
}

// authenticate resolves the caller from KEY or HTTP_AUTH_LOGIN/HTTP_AUTH_PASSWD.
// A non-empty KEY wins over a login pair. A login without a password header
// (e.g. the misspelt HTTP_AUTH_PASSWORD) is "not specified" (1029).
func (s *Server) authenticate(r *http.Request) (*user, int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key := r.Header.Get("KEY"); key != "" {
		for _, k := range s.cfg.Keys {
			if k == key {
				return s.users[0], 0, ""
			}
		}
		return nil, errSecretKeyCheck, "Secret key validation failed."
	}
	login := r.Header.Values("HTTP_AUTH_LOGIN")
	pass := r.Header.Values("HTTP_AUTH_PASSWD")
	if len(login) == 0 || len(pass) == 0 || login[0] == "" {
		return nil, errNoAuthMethod, "Authentication method is not specified"
	}
	u := s.userByLogin(login[0])
	if u == nil || u.password != pass[0] {
		return nil, errAuthFailed, "Authentication failed - wrong password."
	}
	if u.kind == kindClient && u.c.status != 0 { // [GUESS] 1011 for a suspended client

		return nil, errAccountOff, "Account disabled."
	}
	return u, 0, ""
}

// hijackClose takes over the connection, writes a response head promising the
// whole of body and only half of it (nothing at all when body is nil), then
// closes the connection.
func hijackClose(w http.ResponseWriter, body []byte) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	if body == nil {
		return
	}
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-Length: %d\r\n\r\n", len(body))
	_, _ = buf.Write(body[:len(body)/2])
	_ = buf.Flush()
}

// malform breaks well-formedness while keeping the answer recognisable.
func malform(out []byte) []byte {
	i := bytes.Index(out, []byte("<packet"))
	if i < 0 {
		return append([]byte("<<&"), out...)
	}
	j := bytes.IndexByte(out[i:], '>')
	if j < 0 {
		return append([]byte("<<&"), out...)
	}
	k := i + j + 1
	res := append([]byte{}, out[:k]...)
	res = append(res, []byte("<result><<&status>")...)
	return append(res, out[k:]...)
}
