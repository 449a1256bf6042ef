package plesksim

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Only what must be escaped is: character data keeps quotes readable.
var (
	textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#xD;")
	attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\r", "&#xD;", "\n", "&#xA;", "\t", "&#x9;")
)

// xw writes a response packet. Values are escaped; names are constants.
type xw struct{ b strings.Builder }

func (w *xw) open(name string)  { w.b.WriteString("<" + name + ">") }
func (w *xw) close(name string) { w.b.WriteString("</" + name + ">") }
func (w *xw) empty(name string) { w.b.WriteString("<" + name + "/>") }

func (w *xw) leaf(name, value string) {
	if value == "" {
		w.empty(name)
		return
	}
	w.open(name)
	w.b.WriteString(textEscaper.Replace(xmlSafe(value)))
	w.close(name)
}

func (w *xw) leafInt(name string, v int64) { w.leaf(name, strconv.FormatInt(v, 10)) }

func (w *xw) startPacket(ver string) {
	w.b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<packet version="`)
	w.b.WriteString(attrEscaper.Replace(xmlSafe(ver)))
	w.b.WriteString(`">`)
}

func (w *xw) endPacket() []byte {
	w.close("packet")
	w.b.WriteString("\n")
	return []byte(w.b.String())
}

// errResult writes <result> with status error, errcode, errtext; extra adds
// trailing children (filter-id, id, ip_address …).
func (w *xw) errResult(code int, text string, extra func()) {
	w.open("result")
	w.leaf("status", "error")
	w.leafInt("errcode", int64(code))
	w.leaf("errtext", text)
	if extra != nil {
		extra()
	}
	w.close("result")
}

func systemError(ver string, code int, text string) []byte {
	var w xw
	w.startPacket(ver)
	w.open("system")
	w.leaf("status", "error")
	w.leafInt("errcode", int64(code))
	w.leaf("errtext", text)
	w.close("system")
	return w.endPacket()
}

// xmlSafe replaces what XML 1.0 cannot carry (invalid UTF-8, control
// characters) with U+FFFD; such bytes only reach an answer through the
// parser's own error messages.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError, r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0xFFFE, r == 0xFFFF:
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}
