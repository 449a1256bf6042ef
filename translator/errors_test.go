package translator

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestErrorCategories(t *testing.T) {
	categories := map[error][]int{
		ErrNotFound:        {1013},
		ErrExists:          {1002, 1007},
		ErrPermission:      {1006, 1008, 1010, 1011, 1012},
		ErrAuthentication:  {1001, 1029, 11003},
		ErrInvalidValue:    {1019, 1025, 1032, 1033},
		ErrPacketRefused:   {1014},
		ErrUnsupported:     {1017, 1026},
		ErrVersion:         {1005},
		ErrOwnerNotFound:   {1015},
		ErrIPNotFound:      {1018},
		ErrLimitReached:    {1024},
		ErrUnavailable:     {1003, 1004, 1030, 1031},
		ErrOperationFailed: {1023, 1027},
	}
	for sentinel, codes := range categories {
		for _, code := range codes {
			err := fmt.Errorf("wrapped: %w", &Error{Code: code, Text: "x"})
			for other := range categories {
				if got := errors.Is(err, other); got != (other == sentinel) {
					t.Errorf("errors.Is(%d, %v) = %v", code, other, got)
				}
			}
		}
	}
	for _, code := range []int{0, 1009, 1050, 2300, 14008, 99999} {
		for sentinel := range categories {
			if errors.Is(&Error{Code: code}, sentinel) {
				t.Errorf("code %d matched %v", code, sentinel)
			}
		}
	}
	e := &Error{Code: 1005, Text: "XML API protocol version not supported.", System: true}
	if e.Error() != "plesk system error 1005: XML API protocol version not supported." {
		t.Errorf("Error() = %q", e.Error())
	}
	if (&Error{Code: 1013}).Error() != "plesk error 1013" {
		t.Error((&Error{Code: 1013}).Error())
	}
	if (Result{Status: "ok"}).Err() != nil {
		t.Error("ok result has error")
	}
	if err := (Result{Status: "error", ErrCode: 1013, ErrText: "t"}).Err(); !errors.Is(err, ErrNotFound) {
		t.Error(err)
	}
}

func TestUnsupportedError(t *testing.T) {
	e := &UnsupportedError{Operation: OpGetLimits, Version: MustParseVersion("1.6.9.1")}
	if e.Error() != "translator: get-limits unsupported by protocol 1.6.9.1" {
		t.Error(e.Error())
	}
	e.Feature = "field description"
	if e.Error() != "translator: get-limits field description unsupported by protocol 1.6.9.1" {
		t.Error(e.Error())
	}
	if !errors.Is(fmt.Errorf("x: %w", e), ErrUnsupported) || errors.Is(e, ErrNotFound) {
		t.Error("Is")
	}
}

func TestParseErrorSnippet(t *testing.T) {
	body := []byte(strings.Repeat("é", 400) + "<packet>")
	pe := newParseError(body, 301, nil, "m")
	if len(pe.Snippet) > maxSnippet || !errors.Is(pe, ErrMalformed) {
		t.Errorf("snippet %d bytes", len(pe.Snippet))
	}
	for _, r := range pe.Snippet {
		if r == '\uFFFD' {
			t.Error("snippet cut a rune")
		}
	}
	inner := errors.New("inner")
	if !errors.Is(&ParseError{Err: inner}, inner) {
		t.Error("Unwrap")
	}
	if s := newParseError([]byte("short"), 1000, nil, "m").Snippet; s != "short" {
		t.Errorf("snippet %q", s)
	}
}
