package server

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stratus-cloud/stratus/cloudd/internal/cinder"
	"github.com/stratus-cloud/stratus/cloudd/internal/glance"
	"github.com/stratus-cloud/stratus/cloudd/internal/keystone"
	"github.com/stratus-cloud/stratus/cloudd/internal/neutron"
	"github.com/stratus-cloud/stratus/cloudd/internal/nova"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/outbox"
)

func (s *Server) routes() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := newHTTPMetrics(reg)

	r := chi.NewRouter()
	r.Use(osapi.RequestIDs, recoverer, m.instrument)
	r.NotFound(osapi.NotFound)
	r.MethodNotAllowed(osapi.MethodNotAllowed)

	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		osapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Pool.Ping(r.Context()); err != nil {
			osapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
			return
		}
		osapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))

	// One mount per OpenStack service, each rendering errors in its own dialect.
	r.Mount("/identity", (&keystone.API{ID: s.Identity}).Routes())
	r.Mount("/image", (&glance.API{Images: s.Images, Verifier: s.Identity.Verifier}).Routes())
	r.Mount("/compute", (&nova.API{Compute: s.Compute, Volumes: s.Volumes, Verifier: s.Identity.Verifier}).Routes())
	r.Mount("/network", (&neutron.API{Network: s.Network, Verifier: s.Identity.Verifier}).Routes())
	r.Mount("/volume", (&cinder.API{Volumes: s.Volumes, Verifier: s.Identity.Verifier}).Routes())
	r.Get("/events/v1", func(w http.ResponseWriter, r *http.Request) {
		osapi.WriteJSON(w, http.StatusOK, map[string]any{"version": map[string]any{"id": "v1", "status": "CURRENT",
			"links": []osapi.Link{{Rel: "self", Href: osapi.BaseURL(r) + "/events/v1"}}}})
	})
	r.With(s.Identity.Verifier.Require).Method(http.MethodGet, "/events/v1/events", &outbox.Feed{Pool: s.Pool})
	return r
}

// recoverer turns a panic into an opaque 500 logged with the request id.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				slog.ErrorContext(r.Context(), "panic serving request", "request_id", osapi.RequestID(r.Context()),
					"path", r.URL.Path, "panic", v)
				osapi.WriteError(w, r, osapi.Errorf(http.StatusInternalServerError,
					"The server has either erred or is incapable of performing the requested operation."))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// httpMetrics counts requests and their latency per service and route.
// Routes are chi patterns ("/identity/v3/projects/{id}"), never raw paths,
// so ids do not explode the series count.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stratus_http_requests_total", Help: "HTTP requests answered, by service, route, method and status code.",
		}, []string{"service", "route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "stratus_http_request_duration_seconds", Help: "Time to answer HTTP requests, by service, route and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"service", "route", "method"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (m *httpMetrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		service, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if route == "unmatched" {
			service = "none"
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		m.requests.WithLabelValues(service, route, r.Method, strconv.Itoa(rec.status)).Inc()
		m.duration.WithLabelValues(service, route, r.Method).Observe(time.Since(start).Seconds())
		slog.DebugContext(r.Context(), "request", "request_id", osapi.RequestID(r.Context()), "method", r.Method,
			"path", r.URL.Path, "status", rec.status, "duration", time.Since(start))
	})
}
