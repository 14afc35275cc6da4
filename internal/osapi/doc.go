// Package osapi owns the HTTP conventions every Stratus API shares with
// OpenStack: request IDs, error bodies in each service's dialect, strict JSON
// decoding with body-size limits, and limit/marker pagination.
package osapi
