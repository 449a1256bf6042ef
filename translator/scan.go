package translator

import (
	"strings"
	"unicode/utf8"
)

// scanner is a byte tokenizer for the fast decoding path (fastdecode.go). It
// understands only the XML subset Plesk answers are written in: elements
// with ASCII, prefix-free names, quoted attributes without entities,
// comments, and text with the five predefined entities and character
// references. Anything else (CDATA, processing instructions, DOCTYPE, namespace
// prefixes, non-ASCII names, unknown entities, bad UTF-8, characters XML 1.0
// forbids, "]]>" in text) makes it report tokBad, and the caller falls back
// to encoding/xml, which then gives the real answer or error. So the
// scanner never needs to be right about a construct it refuses.
//
// Tokens are substrings of s: no allocation. End tags are not matched here;
// every caller knows which element it is in and checks the name itself.
type scanner struct {
	s   string
	pos int

	// The current token: the element name (tokStart, tokEnd) or the raw
	// text span s[textStart:pos] (tokText).
	name      string
	textStart int
	textAmp   bool // the text holds entity or character references
	textCR    bool // the text holds '\r' (encoding/xml rewrites it to '\n')

	// A self-closing start tag <a/> is reported as tokStart, then tokEnd.
	pendingEnd bool
}

type tokKind uint8

const (
	tokBad tokKind = iota // malformed, or outside the subset: fall back
	tokEOF
	tokStart
	tokEnd
	tokText
)

// maxFastDepth bounds element nesting on the fast path (encoding/xml allows
// more; deeper answers simply fall back).
const maxFastDepth = 64

// next reads the next token.
func (sc *scanner) next() tokKind {
	if sc.pendingEnd {
		sc.pendingEnd = false
		return tokEnd
	}
	s := sc.s
	for sc.pos+4 <= len(s) && s[sc.pos:sc.pos+4] == "<!--" {
		// Comments are skipped: encoding/xml ignores them everywhere a
		// Plesk answer could hold one. Their content is not checked there
		// either, except that "--" must end the comment.
		k := strings.Index(s[sc.pos+4:], "--")
		end := sc.pos + 4 + k + 2
		if k < 0 || end >= len(s) || s[end] != '>' {
			return tokBad
		}
		sc.pos = end + 1
	}
	if sc.pos >= len(s) {
		return tokEOF
	}
	if s[sc.pos] != '<' {
		return sc.text()
	}
	i := sc.pos + 1
	if i >= len(s) {
		return tokBad
	}
	if s[i] == '/' {
		// End tag: </name S? >
		i++
		n := nameEnd(s, i)
		if n == i {
			return tokBad
		}
		sc.name = s[i:n]
		i = skipSpace(s, n)
		if i >= len(s) || s[i] != '>' {
			return tokBad
		}
		sc.pos = i + 1
		return tokEnd
	}
	// Start tag: <name (S? attr)* S? (> | />). encoding/xml needs no space
	// between attributes either.
	n := nameEnd(s, i)
	if n == i {
		return tokBad // also <? <! and friends
	}
	sc.name = s[i:n]
	i = n
	for {
		i = skipSpace(s, i)
		if i >= len(s) {
			return tokBad
		}
		switch s[i] {
		case '>':
			sc.pos = i + 1
			return tokStart
		case '/':
			if i+1 >= len(s) || s[i+1] != '>' {
				return tokBad
			}
			sc.pos = i + 2
			sc.pendingEnd = true
			return tokStart
		}
		// Attribute: name S? = S? quoted value. Its value is never read.
		a := nameEnd(s, i)
		if a == i {
			return tokBad
		}
		i = skipSpace(s, a)
		if i >= len(s) || s[i] != '=' {
			return tokBad
		}
		i = skipSpace(s, i+1)
		if i >= len(s) || s[i] != '"' && s[i] != '\'' {
			return tokBad
		}
		q := s[i]
		end := strings.IndexByte(s[i+1:], q)
		if end < 0 {
			return tokBad
		}
		v := s[i+1 : i+1+end]
		if strings.IndexByte(v, '<') >= 0 || strings.IndexByte(v, '&') >= 0 || !validChars(v) {
			return tokBad
		}
		i += end + 2
	}
}

// text reads character data up to the next '<' (or the end), checking what
// encoding/xml checks: valid UTF-8, XML characters only, known entities,
// no "]]>".
func (sc *scanner) text() tokKind {
	s := sc.s
	start := sc.pos
	end := strings.IndexByte(s[start:], '<')
	if end < 0 {
		end = len(s)
	} else {
		end += start
	}
	sc.textStart, sc.textAmp, sc.textCR = start, false, false
	for i := start; i < end; {
		c := s[i]
		switch {
		case c == '&':
			_, n := entityAt(s[i:end])
			if n == 0 {
				return tokBad
			}
			sc.textAmp = true
			i += n
			continue
		case c == '\r':
			sc.textCR = true
		case c == '>':
			if i-start >= 2 && s[i-1] == ']' && s[i-2] == ']' {
				return tokBad
			}
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:end])
			if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
				return tokBad
			}
			i += size
			continue
		case c < 0x20 && c != '\t' && c != '\n':
			return tokBad
		}
		i++
	}
	sc.pos = end
	return tokText
}

// rawText is the span of the current tokText.
func (sc *scanner) rawText() string { return sc.s[sc.textStart:sc.pos] }

// validChars reports whether s is valid UTF-8 made only of XML characters.
func validChars(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
			return false
		}
		i += size
	}
	return true
}

// entityAt decodes the reference at the start of s ("&lt;", "&#65;",
// "&#x41;") and returns the character and the reference's length, or n = 0
// for anything else, including references encoding/xml decodes in ways not
// worth copying (surrogates become U+FFFD there) or rejects.
func entityAt(s string) (r rune, n int) {
	if len(s) < 3 || s[0] != '&' {
		return 0, 0
	}
	if s[1] != '#' {
		semi := strings.IndexByte(s[:min(len(s), 6)], ';')
		if semi < 0 {
			return 0, 0
		}
		switch s[1:semi] {
		case "lt":
			r = '<'
		case "gt":
			r = '>'
		case "amp":
			r = '&'
		case "apos":
			r = '\''
		case "quot":
			r = '"'
		default:
			return 0, 0
		}
		return r, semi + 1
	}
	i, hex := 2, false
	if s[2] == 'x' { // encoding/xml takes only a lower-case x
		i, hex = 3, true
	}
	digits := i
	var v rune
	for ; i < len(s) && i-digits < 8; i++ {
		c := s[i]
		var d rune
		switch {
		case c >= '0' && c <= '9':
			d = rune(c - '0')
		case hex && c >= 'a' && c <= 'f':
			d = rune(c-'a') + 10
		case hex && c >= 'A' && c <= 'F':
			d = rune(c-'A') + 10
		default:
			goto done
		}
		if hex {
			v = v*16 + d
		} else {
			v = v*10 + d
		}
	}
done:
	if i == digits || i >= len(s) || s[i] != ';' || !isXMLChar(v) {
		return 0, 0
	}
	return v, i + 1
}

// unescape decodes the references of raw text the scanner accepted.
func unescape(raw string, b *strings.Builder) {
	for {
		amp := strings.IndexByte(raw, '&')
		if amp < 0 {
			b.WriteString(raw)
			return
		}
		b.WriteString(raw[:amp])
		r, n := entityAt(raw[amp:])
		b.WriteRune(r)
		raw = raw[amp+n:]
	}
}

// nameEnd returns the end of the name starting at s[i] (i when there is
// none). Names are ASCII: [A-Za-z_][A-Za-z0-9_.-]*. A name running into ':'
// or a non-ASCII byte is refused (returns i), since encoding/xml would read
// those as part of the name (a prefix, or a Unicode name).
func nameEnd(s string, i int) int {
	if i >= len(s) {
		return i
	}
	c := s[i]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') {
		return i
	}
	j := i + 1
	for j < len(s) {
		c = s[j]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' {
			j++
			continue
		}
		if c == ':' || c >= utf8.RuneSelf {
			return i
		}
		break
	}
	return j
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
		i++
	}
	return i
}
