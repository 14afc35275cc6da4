package cinder

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/token"
)

// metadata serves a resource's metadata (volumes and snapshots alike):
// GET reads it through get, PUT replaces it and POST merges into it
// through set.
type metadata struct {
	get func(ctx context.Context, c *token.Claims, id string) (map[string]string, error)
	set func(ctx context.Context, c *token.Claims, id string, md map[string]string, replace bool) (map[string]string, error)
}

func (m metadata) routes(r chi.Router, path string) {
	r.Method(http.MethodGet, path, osapi.HandlerFunc(m.show))
	r.Method(http.MethodPut, path, osapi.HandlerFunc(m.write(true)))
	r.Method(http.MethodPost, path, osapi.HandlerFunc(m.write(false)))
}

func (m metadata) show(w http.ResponseWriter, r *http.Request) error {
	md, err := m.get(r.Context(), claims(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"metadata": md})
	return nil
}

func (m metadata) write(replace bool) osapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			Metadata map[string]string `json:"metadata"`
		}
		if err := osapi.DecodeJSON(r, &body, false); err != nil {
			return err
		}
		if body.Metadata == nil {
			return osapi.Errorf(http.StatusBadRequest, "Malformed request body: 'metadata' is a required property.")
		}
		md, err := m.set(r.Context(), claims(r), chi.URLParam(r, "id"), body.Metadata, replace)
		if err != nil {
			return err
		}
		osapi.WriteJSON(w, http.StatusOK, map[string]any{"metadata": md})
		return nil
	}
}
