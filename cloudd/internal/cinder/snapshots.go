package cinder

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/volume"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/token"
)

func (a *API) snapshotRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/snapshots", osapi.HandlerFunc(a.listSnapshots(false)))
	r.Method(http.MethodGet, "/snapshots/detail", osapi.HandlerFunc(a.listSnapshots(true)))
	r.Method(http.MethodPost, "/snapshots", osapi.HandlerFunc(a.createSnapshot))
	r.Method(http.MethodGet, "/snapshots/{id}", osapi.HandlerFunc(a.getSnapshot))
	r.Method(http.MethodPut, "/snapshots/{id}", osapi.HandlerFunc(a.updateSnapshot))
	r.Method(http.MethodDelete, "/snapshots/{id}", osapi.HandlerFunc(a.deleteSnapshot))
	metadata{get: func(ctx context.Context, c *token.Claims, id string) (map[string]string, error) {
		s, err := a.Volumes.GetSnapshot(ctx, c, id)
		return s.Metadata, err
	}, set: a.Volumes.SetSnapshotMetadata}.routes(r, "/snapshots/{id}/metadata")
}

func snapshotJSON(s volume.Snapshot) map[string]any {
	return map[string]any{
		"id": s.ID, "name": s.Name, "description": s.Description, "volume_id": s.VolumeID, "status": s.Status,
		"size": s.SizeGB, "metadata": s.Metadata, "created_at": isoTime(s.CreatedAt), "updated_at": isoTime(s.UpdatedAt),
		"os-extended-snapshot-attributes:project_id": s.ProjectID, "os-extended-snapshot-attributes:progress": progress(s.Status),
	}
}

func progress(status string) string {
	if status == volume.StatusAvailable {
		return "100%"
	}
	return "0%"
}

func (a *API) createSnapshot(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Snapshot *struct {
			VolumeID    string            `json:"volume_id"`
			Name        string            `json:"name"`
			DisplayName string            `json:"display_name"`
			Description string            `json:"description"`
			Force       any               `json:"force"`
			Metadata    map[string]string `json:"metadata"`
		} `json:"snapshot"`
	}
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return err
	}
	b := body.Snapshot
	if b == nil || b.VolumeID == "" {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute volume_id: 'volume_id' is a required property.")
	}
	if b.Name == "" {
		b.Name = b.DisplayName
	}
	s, err := a.Volumes.CreateSnapshot(r.Context(), claims(r), b.VolumeID, b.Name, b.Description, b.Metadata)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusAccepted, map[string]any{"snapshot": snapshotJSON(s)})
	return nil
}

func (a *API) listSnapshots(detail bool) osapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		page, err := osapi.ParsePage(r)
		if err != nil {
			return err
		}
		if err := checkListOrder(r); err != nil {
			return err
		}
		q := r.URL.Query()
		list, err := a.Volumes.ListSnapshots(r.Context(), claims(r), volume.SnapshotFilter{AllProjects: allTenants(r),
			ProjectID: q.Get("project_id"), Name: q.Get("name"), Status: q.Get("status"), Volume: q.Get("volume_id"), Page: page})
		if err != nil {
			return err
		}
		out := make([]any, len(list))
		for i, s := range list {
			out[i] = snapshotJSON(s)
			if !detail {
				delete(out[i].(map[string]any), "os-extended-snapshot-attributes:project_id")
				delete(out[i].(map[string]any), "os-extended-snapshot-attributes:progress")
			}
		}
		body := map[string]any{"snapshots": out}
		last := ""
		if len(list) > 0 {
			last = list[len(list)-1].ID
		}
		if links := osapi.NextLinks(r, page, len(list), last); links != nil {
			body["snapshots_links"] = links
		}
		osapi.WriteJSON(w, http.StatusOK, body)
		return nil
	}
}

func (a *API) getSnapshot(w http.ResponseWriter, r *http.Request) error {
	s, err := a.Volumes.GetSnapshot(r.Context(), claims(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"snapshot": snapshotJSON(s)})
	return nil
}

func (a *API) updateSnapshot(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Snapshot *struct {
			Name        *string `json:"name"`
			DisplayName *string `json:"display_name"`
			Description *string `json:"description"`
		} `json:"snapshot"`
	}
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return err
	}
	b := body.Snapshot
	if b == nil {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute snapshot: 'snapshot' is a required property.")
	}
	if b.Name == nil {
		b.Name = b.DisplayName
	}
	s, err := a.Volumes.UpdateSnapshot(r.Context(), claims(r), chi.URLParam(r, "id"), b.Name, b.Description)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"snapshot": snapshotJSON(s)})
	return nil
}

func (a *API) deleteSnapshot(w http.ResponseWriter, r *http.Request) error {
	if err := a.Volumes.DeleteSnapshot(r.Context(), claims(r), chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}
