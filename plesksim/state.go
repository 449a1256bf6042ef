package plesksim

import (
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
)

// client is the data of a client (customer) account; login, password, ID and
// GUID live on the owning user.
type client struct {
	cname, pname, phone, fax, email, address, city, state, pcode, country, locale string
	extID, desc                                                                   string
	status                                                                        int
	ownerID                                                                       int
	crDate                                                                        string
	ippool                                                                        []string
	limits                                                                        map[string]int64
	perms                                                                         map[string]bool
	overuse                                                                       string // legacy limits resource-policy
	domains                                                                       []*domain
}

// newGUID returns a random (version 4) UUID.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// The helpers below require s.mu held.

func (s *Server) userByLogin(login string) *user { return s.byLogin[login] }

// insertUser appends u (IDs only grow, so s.users stays in ID order).
func (s *Server) insertUser(u *user) {
	s.users = append(s.users, u)
	s.byLogin[u.login] = u
	s.byID[u.id] = u
}

func (s *Server) renameUser(u *user, login string) {
	delete(s.byLogin, u.login)
	u.login = login
	s.byLogin[login] = u
}

func (s *Server) userByID(id int) *user { return s.byID[id] }

func (s *Server) removeUser(x *user) {
	s.users = slices.DeleteFunc(s.users, func(u *user) bool { return u == x })
	delete(s.byLogin, x.login)
	delete(s.byID, x.id)
}

// visible reports whether caller may see and modify client u: the
// administrator sees every client, a reseller only the clients it owns.
func visible(caller, u *user) bool {
	if u.kind != kindClient {
		return false
	}
	switch caller.kind {
	case kindAdmin:
		return true
	case kindReseller:
		return u.c.ownerID == caller.id
	}
	return false
}

func (s *Server) snapshot(u *user) Client {
	c := u.c
	out := Client{
		ID: u.id, GUID: u.guid, Login: u.login, Name: c.pname, Company: c.cname, Email: c.email,
		Phone: c.phone, Fax: c.fax, Address: c.address, City: c.city, State: c.state,
		PostalCode: c.pcode, Country: c.country, Locale: c.locale, ExternalID: c.extID,
		Description: c.desc, Status: c.status, OwnerID: c.ownerID, CreatedDate: c.crDate,
		IPPool: slices.Clone(c.ippool), Limits: maps.Clone(c.limits), Permissions: maps.Clone(c.perms),
	}
	if o := s.userByID(c.ownerID); o != nil {
		out.OwnerLogin = o.login
	}
	if out.Limits == nil {
		out.Limits = map[string]int64{}
	}
	if out.Permissions == nil {
		out.Permissions = map[string]bool{}
	}
	return out
}

func (s *Server) addClient(login, password string, c *client) *user {
	u := &user{kind: kindClient, id: s.allocID(), login: login, password: password, pwHash: s.passwordHash(password), guid: newGUID(), c: c}
	s.insertUser(u)
	return u
}
