package gateway

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"
)

// jsonBinder decodes request bodies of every JSON media type. Echo's default
// binder knows only application/json and answers 415 to
// application/merge-patch+json; it also binds query parameters into bodies,
// which the generated handlers do not want (they bind parameters themselves).
// The validator has already checked the media type and the body against
// openapi.yaml, and kept nulls: JSON null reaches nullable.Nullable fields, so
// a merge patch can tell "clear" from "absent".
type jsonBinder struct{}

func (jsonBinder) Bind(i any, c echo.Context) error {
	body := c.Request().Body
	if body == nil || body == http.NoBody {
		return nil
	}
	dec := json.NewDecoder(body)
	if err := dec.Decode(i); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Slug: "too-large", Title: "Request body too large", Detail: err.Error()}
		}
		return errBadRequest("the body is not valid JSON for this operation: "+err.Error(), FieldError{Field: "body", Message: err.Error()})
	}
	// One JSON value and nothing after it: "{…} trailing" is not a body the
	// caller meant (the validator, too, reads only the first value).
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errBadRequest("the body has data after its JSON value", FieldError{Field: "body", Message: "trailing data after the JSON value"})
	}
	return nil
}
