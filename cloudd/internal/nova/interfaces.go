package nova

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/network"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

func (a *API) interfaceRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/servers/{id}/os-interface", osapi.HandlerFunc(a.listInterfaces))
	r.Method(http.MethodPost, "/servers/{id}/os-interface", osapi.HandlerFunc(a.attachInterface))
	r.Method(http.MethodGet, "/servers/{id}/os-interface/{port}", osapi.HandlerFunc(a.showInterface))
	r.Method(http.MethodDelete, "/servers/{id}/os-interface/{port}", osapi.HandlerFunc(a.detachInterface))
}

// interfaceView is Nova's interfaceAttachment.
type interfaceView struct {
	PortState string            `json:"port_state"`
	FixedIPs  []network.FixedIP `json:"fixed_ips"`
	PortID    string            `json:"port_id"`
	NetID     string            `json:"net_id"`
	MACAddr   string            `json:"mac_addr"`
}

func interfaceJSON(p network.Port) interfaceView {
	return interfaceView{PortState: p.Status, FixedIPs: p.FixedIPs, PortID: p.ID, NetID: p.NetworkID, MACAddr: p.MACAddress}
}

func (a *API) listInterfaces(w http.ResponseWriter, r *http.Request) error {
	ports, err := a.Compute.Interfaces(r.Context(), claims(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	out := make([]interfaceView, len(ports))
	for i, p := range ports {
		out[i] = interfaceJSON(p)
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"interfaceAttachments": out})
	return nil
}

func (a *API) showInterface(w http.ResponseWriter, r *http.Request) error {
	ports, err := a.Compute.Interfaces(r.Context(), claims(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	for _, p := range ports {
		if p.ID == chi.URLParam(r, "port") {
			osapi.WriteJSON(w, http.StatusOK, map[string]any{"interfaceAttachment": interfaceJSON(p)})
			return nil
		}
	}
	return osapi.Errorf(http.StatusNotFound, "Port %s is not attached", chi.URLParam(r, "port"))
}

func (a *API) attachInterface(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Attachment *struct {
			NetID    string `json:"net_id"`
			PortID   string `json:"port_id"`
			FixedIPs []struct {
				IPAddress string `json:"ip_address"`
			} `json:"fixed_ips"`
			Tag string `json:"tag"`
		} `json:"interfaceAttachment"`
	}
	if err := osapi.DecodeJSON(r, &body, true); err != nil {
		return err
	}
	b := body.Attachment
	if b == nil || (b.NetID == "") == (b.PortID == "") {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute interfaceAttachment: give exactly one of net_id and port_id.")
	}
	if len(b.FixedIPs) > 1 || len(b.FixedIPs) > 0 && b.PortID != "" {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute fixed_ips: at most one, and only with net_id.")
	}
	req := network.ServerNetwork{NetworkID: b.NetID, PortID: b.PortID}
	if len(b.FixedIPs) == 1 {
		req.FixedIP = b.FixedIPs[0].IPAddress
	}
	p, err := a.Compute.AttachInterface(r.Context(), claims(r), chi.URLParam(r, "id"), req)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"interfaceAttachment": interfaceJSON(p)})
	return nil
}

func (a *API) detachInterface(w http.ResponseWriter, r *http.Request) error {
	if err := a.Compute.DetachInterface(r.Context(), claims(r), chi.URLParam(r, "id"), chi.URLParam(r, "port")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}
