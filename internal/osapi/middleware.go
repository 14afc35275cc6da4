package osapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	dialectKey
)

// RequestIDHeader is the header OpenStack services use for request ids.
const RequestIDHeader = "X-Openstack-Request-Id"

// RequestIDs gives every request an id "req-<uuid4>" and echoes it in the
// response. A caller's own id is adopted when it has that exact form, as
// OpenStack does for global request ids.
func RequestIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = "req-" + uuid.NewString()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

func validRequestID(id string) bool {
	rest, ok := strings.CutPrefix(id, "req-")
	if !ok {
		return false
	}
	u, err := uuid.Parse(rest)
	return err == nil && u.Version() == 4 && u.String() == rest // canonical: lower case, dashed
}

// RequestID returns the id RequestIDs assigned, or "" outside a request.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// WithDialect makes errors under this handler render in dialect d.
func WithDialect(d Dialect) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), dialectKey, d)))
		})
	}
}

func dialectFrom(ctx context.Context) Dialect {
	if d, ok := ctx.Value(dialectKey).(Dialect); ok {
		return d
	}
	return NovaDialect
}

// NotFound and MethodNotAllowed answer unknown routes in the request's dialect.
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, r, Errorf(http.StatusNotFound, "The resource could not be found."))
}

// MethodNotAllowed answers a known path with an unsupported method.
func MethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	WriteError(w, r, Errorf(http.StatusMethodNotAllowed, "The method %s is not supported for this resource.", r.Method))
}

// NewRouter is a service's router: errors in dialect d, and unknown routes
// and methods answered as OpenStack does.
func NewRouter(d Dialect) *chi.Mux {
	r := chi.NewRouter()
	r.Use(WithDialect(d))
	r.NotFound(NotFound)
	r.MethodNotAllowed(MethodNotAllowed)
	return r
}
