package cinder

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/volume"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

func (a *API) volumeRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/volumes", osapi.HandlerFunc(a.listVolumes(false)))
	r.Method(http.MethodGet, "/volumes/detail", osapi.HandlerFunc(a.listVolumes(true)))
	r.Method(http.MethodPost, "/volumes", osapi.HandlerFunc(a.createVolume))
	r.Method(http.MethodGet, "/volumes/{id}", osapi.HandlerFunc(a.getVolume))
	r.Method(http.MethodPut, "/volumes/{id}", osapi.HandlerFunc(a.updateVolume))
	r.Method(http.MethodDelete, "/volumes/{id}", osapi.HandlerFunc(a.deleteVolume))
	r.Method(http.MethodPost, "/volumes/{id}/action", osapi.HandlerFunc(a.volumeAction))
	metadata{get: func(ctx context.Context, c *token.Claims, id string) (map[string]string, error) {
		v, err := a.Volumes.Get(ctx, c, id)
		return v.Metadata, err
	}, set: a.Volumes.SetMetadata}.routes(r, "/volumes/{id}/metadata")
	r.Method(http.MethodGet, "/volumes/{id}/metadata/{key}", osapi.HandlerFunc(a.getMetadataKey))
	r.Method(http.MethodPut, "/volumes/{id}/metadata/{key}", osapi.HandlerFunc(a.setMetadataKey))
	r.Method(http.MethodDelete, "/volumes/{id}/metadata/{key}", osapi.HandlerFunc(a.deleteMetadataKey))
	r.Method(http.MethodGet, "/os-availability-zone", osapi.HandlerFunc(a.availabilityZones))
}

func volumeLink(r *http.Request, id string) []osapi.Link {
	base := osapi.BaseURL(r) + "/volume/v3/" + chi.URLParam(r, "project_id") + "/volumes/" + id
	return []osapi.Link{{Rel: "self", Href: base}, {Rel: "bookmark", Href: strings.Replace(base, "/v3/", "/", 1)}}
}

type attachmentView struct {
	ID           string `json:"id"`
	AttachmentID string `json:"attachment_id"`
	VolumeID     string `json:"volume_id"`
	ServerID     string `json:"server_id"`
	HostName     string `json:"host_name"`
	Device       string `json:"device"`
	AttachedAt   string `json:"attached_at"`
}

// volumeView is Cinder 3.0's volume representation.
type volumeView struct {
	ID                 string            `json:"id"`
	Name               string            `json:"name"`
	Description        string            `json:"description"`
	Status             string            `json:"status"`
	Size               int               `json:"size"`
	AvailabilityZone   string            `json:"availability_zone"`
	CreatedAt          string            `json:"created_at"`
	UpdatedAt          string            `json:"updated_at"`
	VolumeType         string            `json:"volume_type"`
	SnapshotID         *string           `json:"snapshot_id"`
	SourceVolID        *string           `json:"source_volid"`
	BackupID           *string           `json:"backup_id"`
	Metadata           map[string]string `json:"metadata"`
	UserID             string            `json:"user_id"`
	TenantID           string            `json:"os-vol-tenant-attr:tenant_id"`
	Bootable           string            `json:"bootable"`
	Encrypted          bool              `json:"encrypted"`
	Multiattach        bool              `json:"multiattach"`
	ReplicationStatus  *string           `json:"replication_status"`
	ConsistencyGroupID *string           `json:"consistencygroup_id"`
	MigrationStatus    *string           `json:"os-vol-mig-status-attr:migstat"`
	NameID             *string           `json:"os-vol-mig-status-attr:name_id"`
	Attachments        []attachmentView  `json:"attachments"`
	ImageMetadata      map[string]string `json:"volume_image_metadata,omitempty"`
	Links              []osapi.Link      `json:"links"`
	Host               *string           `json:"os-vol-host-attr:host,omitempty"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func volumeJSON(r *http.Request, v volume.Volume) volumeView {
	out := volumeView{
		ID: v.ID, Name: v.Name, Description: v.Description, Status: v.Status, Size: v.SizeGB, AvailabilityZone: v.AvailabilityZone,
		CreatedAt: isoTime(v.CreatedAt), UpdatedAt: isoTime(v.UpdatedAt), VolumeType: v.TypeName,
		SnapshotID: optional(v.SnapshotID), SourceVolID: optional(v.SourceVolumeID), Metadata: v.Metadata,
		UserID: v.UserID, TenantID: v.ProjectID, Bootable: strconv.FormatBool(v.Bootable), Attachments: []attachmentView{},
		Links: volumeLink(r, v.ID),
	}
	if v.SourceImageID != "" {
		out.ImageMetadata = v.ImageMetadata
	}
	for _, a := range v.Attachments {
		out.Attachments = append(out.Attachments, attachmentView{ID: a.VolumeID, AttachmentID: a.ID, VolumeID: a.VolumeID,
			ServerID: a.ServerID, HostName: v.HostName, Device: a.Device, AttachedAt: isoTime(a.AttachedAt)})
	}
	if policy.IsAdmin(claims(r)) {
		// Cinder's host@backend#pool.
		out.Host = optional(v.HostName + "@dir#stratus-volumes")
	}
	return out
}

// sizeField reads a size given as a number or a numeric string, as Cinder
// accepts both.
func sizeField(raw json.RawMessage, field string) (int, error) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" || s == "null" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute %s. Value: %s. %s is not a positive integer.", field, s, s)
	}
	return n, nil
}

func (a *API) createVolume(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Volume *struct {
			Size             json.RawMessage   `json:"size"`
			Name             *string           `json:"name"`
			DisplayName      *string           `json:"display_name"`
			Description      *string           `json:"description"`
			VolumeType       *string           `json:"volume_type"`
			AvailabilityZone *string           `json:"availability_zone"`
			ImageRef         *string           `json:"imageRef"`
			ImageID          *string           `json:"image_id"`
			SnapshotID       *string           `json:"snapshot_id"`
			SourceVolID      *string           `json:"source_volid"`
			BackupID         *string           `json:"backup_id"`
			Metadata         map[string]string `json:"metadata"`
			Multiattach      bool              `json:"multiattach"`
		} `json:"volume"`
	}
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return err
	}
	b := body.Volume
	if b == nil {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute volume: 'volume' is a required property.")
	}
	if b.BackupID != nil && *b.BackupID != "" {
		return osapi.Errorf(http.StatusBadRequest, "Volumes cannot be restored from backups: Stratus has no backup service.")
	}
	if b.Multiattach {
		return osapi.Errorf(http.StatusBadRequest, "Multiattach volumes are not supported.")
	}
	size, err := sizeField(b.Size, "size")
	if err != nil {
		return err
	}
	deref := func(ps ...*string) string {
		for _, p := range ps {
			if p != nil && *p != "" {
				return *p
			}
		}
		return ""
	}
	v, err := a.Volumes.Create(r.Context(), claims(r), volume.CreateRequest{
		Name: deref(b.Name, b.DisplayName), Description: deref(b.Description), SizeGB: size, Type: deref(b.VolumeType),
		AvailabilityZone: deref(b.AvailabilityZone), ImageID: deref(b.ImageRef, b.ImageID), SnapshotID: deref(b.SnapshotID),
		SourceVolumeID: deref(b.SourceVolID), Metadata: b.Metadata,
	})
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusAccepted, map[string]any{"volume": volumeJSON(r, v)})
	return nil
}

func (a *API) listVolumes(detail bool) osapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		page, err := osapi.ParsePage(r)
		if err != nil {
			return err
		}
		if err := checkListOrder(r); err != nil {
			return err
		}
		q := r.URL.Query()
		f := volume.ListFilter{AllProjects: allTenants(r), ProjectID: q.Get("project_id"), Name: q.Get("name"),
			Status: q.Get("status"), AvailabilityZone: q.Get("availability_zone"), Page: page}
		if s := q.Get("bootable"); s != "" {
			v, ok := truthy(s)
			if !ok {
				return osapi.Errorf(http.StatusBadRequest, "Invalid input received: bootable=%s is not a boolean.", s)
			}
			f.Bootable = &v
		}
		if s := q.Get("metadata"); s != "" {
			// Cinder takes metadata as a Python-literal dict; JSON is its
			// common subset.
			if err := json.Unmarshal([]byte(strings.ReplaceAll(s, "'", `"`)), &f.Metadata); err != nil {
				return osapi.Errorf(http.StatusBadRequest, "Invalid input received: metadata filter %s is not a dictionary.", s)
			}
		}
		list, err := a.Volumes.List(r.Context(), claims(r), f)
		if err != nil {
			return err
		}
		out := make([]any, len(list))
		for i, v := range list {
			if detail {
				out[i] = volumeJSON(r, v)
			} else {
				out[i] = map[string]any{"id": v.ID, "name": v.Name, "links": volumeLink(r, v.ID)}
			}
		}
		body := map[string]any{"volumes": out}
		last := ""
		if len(list) > 0 {
			last = list[len(list)-1].ID
		}
		if links := osapi.NextLinks(r, page, len(list), last); links != nil {
			body["volumes_links"] = links
		}
		osapi.WriteJSON(w, http.StatusOK, body)
		return nil
	}
}

func (a *API) getVolume(w http.ResponseWriter, r *http.Request) error {
	v, err := a.Volumes.Get(r.Context(), claims(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"volume": volumeJSON(r, v)})
	return nil
}

func (a *API) updateVolume(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Volume *struct {
			Name        *string           `json:"name"`
			DisplayName *string           `json:"display_name"`
			Description *string           `json:"description"`
			Metadata    map[string]string `json:"metadata"`
		} `json:"volume"`
	}
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return err
	}
	b := body.Volume
	if b == nil {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute volume: 'volume' is a required property.")
	}
	if b.Name == nil {
		b.Name = b.DisplayName
	}
	v, err := a.Volumes.Update(r.Context(), claims(r), chi.URLParam(r, "id"), b.Name, b.Description, b.Metadata)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"volume": volumeJSON(r, v)})
	return nil
}

func (a *API) deleteVolume(w http.ResponseWriter, r *http.Request) error {
	if v, ok := truthy(r.URL.Query().Get("cascade")); ok && v {
		return osapi.Errorf(http.StatusBadRequest, "Cascading deletes are not supported; delete the snapshots first.")
	}
	if err := a.Volumes.Delete(r.Context(), claims(r), chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// volumeAction dispatches POST /volumes/{id}/action by its single key.
func (a *API) volumeAction(w http.ResponseWriter, r *http.Request) error {
	var body map[string]json.RawMessage
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return err
	}
	if len(body) != 1 {
		return osapi.Errorf(http.StatusBadRequest, "An action body must hold exactly one action.")
	}
	ctx, c, id := r.Context(), claims(r), chi.URLParam(r, "id")
	for action, raw := range body {
		switch action {
		case "os-extend":
			var args struct {
				NewSize json.RawMessage `json:"new_size"`
			}
			_ = json.Unmarshal(raw, &args)
			size, err := sizeField(args.NewSize, "new_size")
			if err != nil {
				return err
			}
			if size == 0 {
				return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute os-extend: 'new_size' is a required property.")
			}
			if err := a.Volumes.Extend(ctx, c, id, size); err != nil {
				return err
			}
		case "os-set_bootable":
			var args struct {
				Bootable json.RawMessage `json:"bootable"`
			}
			_ = json.Unmarshal(raw, &args)
			v, ok := truthy(strings.Trim(string(args.Bootable), `"`))
			if !ok {
				return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute bootable: a boolean is required.")
			}
			if err := a.Volumes.SetBootable(ctx, c, id, v); err != nil {
				return err
			}
			w.WriteHeader(http.StatusOK)
			return nil
		case "os-reset_status":
			var args struct {
				Status string `json:"status"`
			}
			_ = json.Unmarshal(raw, &args)
			if err := a.Volumes.ResetStatus(ctx, c, id, args.Status); err != nil {
				return err
			}
		case "os-force_delete":
			if err := a.Volumes.ForceDelete(ctx, c, id); err != nil {
				return err
			}
		default:
			return osapi.Errorf(http.StatusBadRequest, "There is no such action: %s", action)
		}
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (a *API) getMetadataKey(w http.ResponseWriter, r *http.Request) error {
	v, err := a.Volumes.Get(r.Context(), claims(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	key := chi.URLParam(r, "key")
	val, ok := v.Metadata[key]
	if !ok {
		return osapi.Errorf(http.StatusNotFound, "Volume %s has no metadata with key %s.", v.ID, key)
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"meta": map[string]string{key: val}})
	return nil
}

func (a *API) setMetadataKey(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Meta map[string]string `json:"meta"`
	}
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return err
	}
	key := chi.URLParam(r, "key")
	if _, ok := body.Meta[key]; !ok || len(body.Meta) != 1 {
		return osapi.Errorf(http.StatusBadRequest, "Request body and URI mismatch")
	}
	if _, err := a.Volumes.SetMetadata(r.Context(), claims(r), chi.URLParam(r, "id"), body.Meta, false); err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"meta": body.Meta})
	return nil
}

func (a *API) deleteMetadataKey(w http.ResponseWriter, r *http.Request) error {
	if err := a.Volumes.DeleteMetadata(r.Context(), claims(r), chi.URLParam(r, "id"), chi.URLParam(r, "key")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (a *API) availabilityZones(w http.ResponseWriter, r *http.Request) error {
	zones, err := a.Volumes.Zones(r.Context(), claims(r))
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(zones))
	for i, z := range zones {
		out[i] = map[string]any{"zoneName": z.Name, "zoneState": map[string]bool{"available": z.Available}}
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"availabilityZoneInfo": out})
	return nil
}
