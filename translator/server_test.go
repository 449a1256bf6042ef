package translator

import (
	"errors"
	"testing"
)

func TestGetProtos(t *testing.T) {
	if got := string(EncodeGetProtos()); got != `<packet><server><get_protos></get_protos></server></packet>` {
		t.Errorf("EncodeGetProtos = %s", got)
	}
	body := `<?xml version="1.0"?>
<packet version="1.6.9.1">
  <server>
    <get_protos>
      <result>
        <status>ok</status>
        <protos>
          <proto>1.6.9.1</proto>
          <proto>1.4.2.0</proto>
          <proto> 1.6.0.2 </proto>
          <proto>1.6.9.1</proto>
        </protos>
      </result>
    </get_protos>
  </server>
</packet>`
	vs, err := DecodeGetProtos([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 || vs[0].String() != "1.4.2.0" || vs[1].String() != "1.6.0.2" || vs[2].String() != "1.6.9.1" {
		t.Errorf("got %v", vs)
	}
	if v, ok := PickVersion(vs, OpGetLimits); !ok || v.String() != "1.6.0.2" {
		t.Errorf("pick %v", v)
	}

	_, err = DecodeGetProtos([]byte(`<packet><system><status>error</status><errcode>1001</errcode><errtext>x</errtext></system></packet>`))
	var pe *Error
	if !errors.As(err, &pe) || !pe.System || !errors.Is(err, ErrAuthentication) {
		t.Errorf("system: %v", err)
	}
	_, err = DecodeGetProtos([]byte(`<packet><server><get_protos><result><status>error</status><errcode>1006</errcode></result></get_protos></server></packet>`))
	if !errors.As(err, &pe) || pe.System || !errors.Is(err, ErrPermission) {
		t.Errorf("op error: %v", err)
	}
	for _, bad := range []string{
		``, `garbage`, `<packet/>`, `<packet><server/></packet>`, `<packet><customer/></packet>`,
		`<packet><server><get_protos><result><status>ok</status><protos><proto>1.x</proto></protos></result></get_protos></server></packet>`,
		`<packet><server><get_protos><result><status>ok</status><protos><proto>1.6</proto>`,
	} {
		if _, err := DecodeGetProtos([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
