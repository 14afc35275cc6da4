package osapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// MaxBodyBytes bounds a JSON request body; larger bodies get 413.
const MaxBodyBytes = 1 << 20

// DecodeJSON reads the request body into v strictly: it must be JSON, at most
// MaxBodyBytes, a single value, and (when strict) carry no unknown fields.
// Every failure is a 4xx Error that says what was wrong.
func DecodeJSON(r *http.Request, v any, strict bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "application/openstack-images-v2.1-json-patch") {
			return Errorf(http.StatusUnsupportedMediaType, "The request media type %q is not supported; use application/json.", ct)
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return Errorf(http.StatusBadRequest, "Could not read the request body: %v", err)
	}
	if len(body) > MaxBodyBytes {
		return Errorf(http.StatusRequestEntityTooLarge, "Request body is larger than %d bytes.", MaxBodyBytes)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return Errorf(http.StatusBadRequest, "The request body is empty; a JSON object is required.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return Errorf(http.StatusBadRequest, "Invalid JSON in request body: %s", describeJSONError(err))
	}
	if dec.More() {
		return Errorf(http.StatusBadRequest, "Invalid JSON in request body: unexpected data after the top-level value.")
	}
	return nil
}

func describeJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "(root)"
		}
		return fmt.Sprintf("field %q must be %s, not %s.", field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("%v (at byte %d).", syntaxErr, syntaxErr.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends in the middle of a value."
	default:
		return err.Error() + "."
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	default:
		return "a number"
	}
}
