package plesksim

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PasswordPolicy is the minimum password strength, like Plesk's security
// policy setting (Tools & Settings > Security Policy).
type PasswordPolicy string

// Password policies. The rules of each level are [GUESS]: Plesk documents
// the levels, not the rules behind them (see passwordRule).
const (
	PasswordPolicyOff    PasswordPolicy = "off"
	PasswordPolicyWeak   PasswordPolicy = "weak"
	PasswordPolicyMedium PasswordPolicy = "medium"
	PasswordPolicyStrong PasswordPolicy = "strong"
)

// DefaultPasswordPolicy is what the plesksim command uses without
// --password-policy: [GUESS] medium, taken to be what Plesk ships; no source
// found states the shipped default.
const DefaultPasswordPolicy = PasswordPolicyMedium

// ParsePasswordPolicy reads off, weak, medium or strong ("" is off).
func ParsePasswordPolicy(s string) (PasswordPolicy, error) {
	switch p := PasswordPolicy(s); p {
	case "", PasswordPolicyOff:
		return PasswordPolicyOff, nil
	case PasswordPolicyWeak, PasswordPolicyMedium, PasswordPolicyStrong:
		return p, nil
	}
	return "", fmt.Errorf("plesksim: unknown password policy %q (want off, weak, medium or strong)", s)
}

// Rule describes what a password needs under p, in the words the refusal uses.
func (p PasswordPolicy) Rule() string {
	switch p {
	case PasswordPolicyWeak:
		return "at least 5 characters"
	case PasswordPolicyMedium:
		return "at least 8 characters of at least two kinds (lower-case letters, upper-case letters, digits, other characters)"
	case PasswordPolicyStrong:
		return "at least 8 characters with upper-case and lower-case letters, digits and another character"
	}
	return "any non-empty password"
}

// errPasswordPolicy is the one place of a too-weak password's errcode and
// errtext: [GUESS] 1019 with the wording of REC-1's recorded 1019 ("Unable to
// set login or password argument: …"), followed by the rule.
const errPasswordPolicy = errInvalidValue

func passwordPolicyText(p PasswordPolicy) string {
	return "Unable to set login or password argument: The password is too weak: it must have " + p.Rule() + "."
}

// Allows reports whether pw meets the policy [GUESS rules, see Rule].
func (p PasswordPolicy) Allows(pw string) bool {
	var upper, lower, digit, other bool
	for _, r := range pw {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLetter(r):
			lower = true // lower-case and caseless letters
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	kinds := 0
	for _, k := range []bool{upper, lower, digit, other} {
		if k {
			kinds++
		}
	}
	n := utf8.RuneCountInString(pw)
	switch p {
	case PasswordPolicyWeak:
		return n >= 5
	case PasswordPolicyMedium:
		return n >= 8 && kinds >= 2
	case PasswordPolicyStrong:
		return n >= 8 && upper && lower && digit && other
	}
	return n > 0
}

// ---- crypt hashes (gen_info password, PROTOCOL.md §15 REC-1) ----

const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func newSalt() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(cryptAlphabet[c&0x3f])
	}
	return s.String()
}

// maxHashMemo bounds Server.hashes.
const maxHashMemo = 1024

// passwordHash is the SHA-256-crypt ("$5$") hash of pw that gen_info shows,
// as REC-1 recorded. A server uses one salt [INF: a real panel salts per
// user], so the hash of a password can be memoised: 5,000 SHA-256 rounds per
// client would slow down tests that create thousands. s.mu is held (or s is
// not shared yet).
func (s *Server) passwordHash(pw string) string {
	if h, ok := s.hashes[pw]; ok {
		return h
	}
	if s.hashes == nil || len(s.hashes) >= maxHashMemo {
		s.hashes = map[string]string{}
	}
	h := sha256Crypt(pw, s.salt)
	s.hashes[pw] = h
	return h
}

// sha256Crypt is Ulrich Drepper's SHA-crypt with SHA-256 and the default
// 5,000 rounds (the "$5$salt$hash" form of glibc's crypt(3)), written from
// the published algorithm.
func sha256Crypt(password, salt string) string {
	p, s := []byte(password), []byte(salt)
	if len(s) > 16 {
		s = s[:16]
	}
	repeat := func(src []byte, n int) []byte {
		out := make([]byte, 0, n)
		for n > 0 {
			k := min(n, len(src))
			out = append(out, src[:k]...)
			n -= k
		}
		return out
	}
	hb := sha256.New()
	hb.Write(p)
	hb.Write(s)
	hb.Write(p)
	b := hb.Sum(nil)
	ha := sha256.New()
	ha.Write(p)
	ha.Write(s)
	ha.Write(repeat(b, len(p)))
	for i := len(p); i > 0; i >>= 1 {
		if i&1 != 0 {
			ha.Write(b)
		} else {
			ha.Write(p)
		}
	}
	a := ha.Sum(nil)
	hp := sha256.New()
	for range p {
		hp.Write(p)
	}
	pseq := repeat(hp.Sum(nil), len(p))
	hs := sha256.New()
	for i := 0; i < 16+int(a[0]); i++ {
		hs.Write(s)
	}
	sseq := repeat(hs.Sum(nil), len(s))
	c := a
	for r := 0; r < 5000; r++ {
		h := sha256.New()
		if r&1 != 0 {
			h.Write(pseq)
		} else {
			h.Write(c)
		}
		if r%3 != 0 {
			h.Write(sseq)
		}
		if r%7 != 0 {
			h.Write(pseq)
		}
		if r&1 != 0 {
			h.Write(c)
		} else {
			h.Write(pseq)
		}
		c = h.Sum(nil)
	}
	var out strings.Builder
	out.WriteString("$5$")
	out.Write(s)
	out.WriteByte('$')
	enc := func(b2, b1, b0 byte, n int) {
		w := uint(b2)<<16 | uint(b1)<<8 | uint(b0)
		for ; n > 0; n-- {
			out.WriteByte(cryptAlphabet[w&0x3f])
			w >>= 6
		}
	}
	for i := 0; i < 10; i++ {
		enc(c[(i*21)%30], c[(i*21+10)%30], c[(i*21+20)%30], 4)
	}
	enc(0, c[31], c[30], 3)
	return out.String()
}

// ---- field lengths ----

// fieldLengths are the documented gen_info lengths in characters [DOC]
// type-clientaddgeninfo.34336 (PROTOCOL.md §5.1): beyond them add and set
// answer 1019. login: 1–60 as the add page says (the get/set pages say
// 1–20; [GUESS] 60 wins). country: the 2-letter code, 0 or 2 [DOC].
var fieldLengths = map[string][2]int{
	"cname": {0, 60}, "pname": {1, 60}, "login": {1, 60}, "phone": {0, 30}, "fax": {0, 30},
	"email": {0, 255}, "address": {0, 255}, "city": {0, 50}, "state": {0, 25}, "pcode": {0, 10},
	"country": {0, 2},
}

// checkLength returns the 1019 errtext for a value outside its documented
// length, or "". The wording is [GUESS].
func checkLength(name, val string) string {
	l, ok := fieldLengths[name]
	if !ok {
		return ""
	}
	n := utf8.RuneCountInString(val)
	if n < l[0] || n > l[1] {
		if l[0] > 0 {
			return fmt.Sprintf("Invalid value: %s must be %d to %d characters long.", name, l[0], l[1])
		}
		return fmt.Sprintf("Invalid value: %s must be at most %d characters long.", name, l[1])
	}
	return ""
}
