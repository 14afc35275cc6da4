package nova

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/compute"
	"github.com/stratus-cloud/stratus/cloudd/internal/volume"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
)

// volumeAttachmentRoutes serves os-volume_attachments over block storage.
func (a *API) volumeAttachmentRoutes(r chi.Router) {
	if a.Volumes == nil {
		return
	}
	r.Method(http.MethodGet, "/servers/{id}/os-volume_attachments", osapi.HandlerFunc(a.listVolumeAttachments))
	r.Method(http.MethodPost, "/servers/{id}/os-volume_attachments", osapi.HandlerFunc(a.attachVolume))
	r.Method(http.MethodGet, "/servers/{id}/os-volume_attachments/{volume}", osapi.HandlerFunc(a.getVolumeAttachment))
	r.Method(http.MethodDelete, "/servers/{id}/os-volume_attachments/{volume}", osapi.HandlerFunc(a.detachVolume))
}

// attachmentJSON is Nova 2.1's attachment: its id is the volume id.
func attachmentJSON(att volume.Attachment) map[string]any {
	return map[string]any{"id": att.VolumeID, "volumeId": att.VolumeID, "serverId": att.ServerID, "device": att.Device}
}

func (a *API) listVolumeAttachments(w http.ResponseWriter, r *http.Request) error {
	srv, err := a.Compute.Get(r.Context(), claims(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	atts, err := a.Volumes.ServerAttachments(r.Context(), srv.ID)
	if err != nil {
		return err
	}
	out := make([]any, len(atts))
	for i, att := range atts {
		out[i] = attachmentJSON(att)
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"volumeAttachments": out})
	return nil
}

func (a *API) getVolumeAttachment(w http.ResponseWriter, r *http.Request) error {
	srv, err := a.Compute.Get(r.Context(), claims(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	att, err := a.Volumes.ServerAttachment(r.Context(), srv.ID, chi.URLParam(r, "volume"))
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"volumeAttachment": attachmentJSON(att)})
	return nil
}

// attachableServer returns the server if volumes may be attached to or
// detached from it now: placed, and active or stopped.
func (a *API) attachableServer(r *http.Request, op string) (compute.Server, error) {
	c := claims(r)
	srv, err := a.Compute.Get(r.Context(), c, chi.URLParam(r, "id"))
	if err != nil {
		return srv, err
	}
	if err := policy.Authorize(c, policy.Write, srv.ProjectID, "server"); err != nil {
		return srv, err
	}
	if (srv.VMState != compute.VMActive && srv.VMState != compute.VMStopped) || srv.TaskState != "" || srv.HostID == "" {
		return srv, osapi.Errorf(http.StatusConflict, "Cannot '%s' instance %s while it is in vm_state %s", op, srv.ID, srv.VMState)
	}
	return srv, nil
}

func (a *API) attachVolume(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		VolumeAttachment *struct {
			VolumeID            string `json:"volumeId"`
			Device              string `json:"device"`
			Tag                 string `json:"tag"`
			DeleteOnTermination bool   `json:"delete_on_termination"`
		} `json:"volumeAttachment"`
	}
	if err := osapi.DecodeJSON(r, &body, true); err != nil {
		return err
	}
	b := body.VolumeAttachment
	if b == nil || b.VolumeID == "" {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute volumeAttachment: 'volumeId' is a required property.")
	}
	srv, err := a.attachableServer(r, "attach_volume")
	if err != nil {
		return err
	}
	att, err := a.Volumes.Attach(r.Context(), claims(r), volume.Server{ID: srv.ID, ProjectID: srv.ProjectID, HostID: srv.HostID, HostName: srv.HostName},
		b.VolumeID, b.DeleteOnTermination)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"volumeAttachment": attachmentJSON(att)})
	return nil
}

func (a *API) detachVolume(w http.ResponseWriter, r *http.Request) error {
	srv, err := a.attachableServer(r, "detach_volume")
	if err != nil {
		return err
	}
	if err := a.Volumes.Detach(r.Context(), claims(r), srv.ID, chi.URLParam(r, "volume")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// attachedVolume is an entry of a server's os-extended-volumes:volumes_attached.
type attachedVolume struct {
	ID string `json:"id"`
}

// fillVolumes sets volumes_attached on server views, one query per page.
func (a *API) fillVolumes(r *http.Request, views []*serverView) error {
	if a.Volumes == nil || len(views) == 0 {
		return nil
	}
	ids := make([]string, len(views))
	for i, v := range views {
		ids[i] = v.ID
	}
	attached, err := a.Volumes.AttachedTo(r.Context(), ids)
	if err != nil {
		return err
	}
	for _, v := range views {
		for _, vol := range attached[v.ID] {
			v.Volumes = append(v.Volumes, attachedVolume{ID: vol})
		}
	}
	return nil
}

// writeServer answers with one server's view, its volumes included.
func (a *API) writeServer(w http.ResponseWriter, r *http.Request, srv compute.Server) error {
	net, err := a.networking(r, srv)
	if err != nil {
		return err
	}
	view := serverJSON(r, srv, net[srv.ID])
	if err := a.fillVolumes(r, []*serverView{&view}); err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"server": view})
	return nil
}
