package osapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// Error is an API error a client is allowed to see. Kind is the OpenStack
// fault name (itemNotFound, badRequest, conflictingRequest, ...); each
// service's Dialect decides where it goes in the body.
type Error struct {
	Status  int
	Kind    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Kind, e.Message) }

// Errorf builds an Error whose kind is the usual OpenStack name for status.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Kind: kindFor(status), Message: fmt.Sprintf(format, args...)}
}

// Sentinel errors that domain code returns (wrapped with detail) and that
// WriteError maps to statuses without the domain knowing about HTTP.
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrForbidden    = errors.New("forbidden")
	ErrUnauthorized = errors.New("the request you have made requires authentication")
	ErrBadRequest   = errors.New("bad request")
	ErrOverQuota    = errors.New("quota exceeded")
)

func kindFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "badRequest"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "itemNotFound"
	case http.StatusMethodNotAllowed:
		return "badMethod"
	case http.StatusConflict:
		return "conflictingRequest"
	case http.StatusRequestEntityTooLarge:
		return "overLimit"
	case http.StatusUnsupportedMediaType:
		return "badMediaType"
	case http.StatusNotImplemented:
		return "notImplemented"
	case http.StatusServiceUnavailable:
		return "serviceUnavailable"
	default:
		return "computeFault"
	}
}

// AsError turns any error into the Error a client sees. Sentinels wrapped
// with %w keep their message; anything unknown becomes an opaque 500.
func AsError(err error) (e *Error, internal bool) {
	if errors.As(err, &e) {
		return e, false
	}
	for _, m := range []struct {
		target error
		status int
	}{
		{ErrNotFound, http.StatusNotFound},
		{ErrConflict, http.StatusConflict},
		{ErrForbidden, http.StatusForbidden},
		{ErrUnauthorized, http.StatusUnauthorized},
		{ErrBadRequest, http.StatusBadRequest},
		{ErrOverQuota, http.StatusRequestEntityTooLarge},
	} {
		if errors.Is(err, m.target) {
			return &Error{Status: m.status, Kind: kindFor(m.status), Message: err.Error()}, false
		}
	}
	return Errorf(http.StatusInternalServerError, "The server has either erred or is incapable of performing the requested operation."), true
}

// A Dialect writes an Error in one service's body shape.
type Dialect func(w http.ResponseWriter, e *Error)

// NovaDialect is the shape Nova, Cinder and our own APIs use:
// {"itemNotFound": {"code": 404, "message": "..."}}.
func NovaDialect(w http.ResponseWriter, e *Error) {
	WriteJSON(w, e.Status, map[string]any{e.Kind: map[string]any{"code": e.Status, "message": e.Message}})
}

// KeystoneDialect is Keystone's shape: {"error": {"code", "message", "title"}}.
func KeystoneDialect(w http.ResponseWriter, e *Error) {
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Keystone uri="/identity"`)
	}
	WriteJSON(w, e.Status, map[string]any{"error": map[string]any{
		"code": e.Status, "message": e.Message, "title": http.StatusText(e.Status),
	}})
}

// NeutronDialect renders errors as Neutron does:
// {"NeutronError": {"type": "NetworkNotFound", "message": "...", "detail": ""}}.
// A generic Kind (itemNotFound, ...) becomes Neutron's HTTP exception name
// (HTTPNotFound, HTTPBadRequest, ...); a Neutron type such as
// IpAddressGenerationFailure is used as it is.
func NeutronDialect(w http.ResponseWriter, e *Error) {
	typ := e.Kind
	if typ == kindFor(e.Status) {
		typ = "HTTP" + strings.ReplaceAll(http.StatusText(e.Status), " ", "")
	}
	WriteJSON(w, e.Status, map[string]any{"NeutronError": map[string]any{"type": typ, "message": e.Message, "detail": ""}})
}

// WriteError renders err in the dialect the router chose for this request.
// A 500 never shows its cause; it is logged with the request id instead.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e, internal := AsError(err)
	if internal {
		slog.ErrorContext(r.Context(), "internal error", "request_id", RequestID(r.Context()),
			"method", r.Method, "path", r.URL.Path, "err", err)
	}
	dialectFrom(r.Context())(w, e)
}

// WriteJSON writes v as a JSON response with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// HandlerFunc is an http.Handler that returns its error, so every handler
// of every service renders failures in one place, in the request's dialect.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

func (h HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h(w, r); err != nil {
		WriteError(w, r, err)
	}
}
