package neutron

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/network"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

func (a *API) portRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/ports", osapi.HandlerFunc(a.listPorts))
	r.Method(http.MethodPost, "/ports", osapi.HandlerFunc(a.createPort))
	r.Method(http.MethodGet, "/ports/{id}", osapi.HandlerFunc(a.showPort))
	r.Method(http.MethodPut, "/ports/{id}", osapi.HandlerFunc(a.updatePort))
	r.Method(http.MethodDelete, "/ports/{id}", osapi.HandlerFunc(a.deletePort))
}

type portBody struct {
	project
	NetworkID      string             `json:"network_id"`
	Name           *string            `json:"name"`
	Description    *string            `json:"description"`
	AdminStateUp   *bool              `json:"admin_state_up"`
	MACAddress     string             `json:"mac_address"`
	FixedIPs       *[]network.FixedIP `json:"fixed_ips"`
	DeviceID       *string            `json:"device_id"`
	DeviceOwner    *string            `json:"device_owner"`
	SecurityGroups *[]string          `json:"security_groups"`
	PortSecurity   *bool              `json:"port_security_enabled"`
	HostID         *string            `json:"binding:host_id"`
	VNICType       string             `json:"binding:vnic_type"`
}

func decodePort(r *http.Request) (network.PortRequest, error) {
	var b portBody
	fields, err := decode(r, "port", &b)
	if err != nil {
		return network.PortRequest{}, err
	}
	if b.VNICType != "" && b.VNICType != "normal" {
		return network.PortRequest{}, osapi.Errorf(http.StatusBadRequest, "binding:vnic_type %q is not supported; only normal (virtio) ports.", b.VNICType)
	}
	if raw, ok := fields["security_groups"]; ok && string(raw) == "null" {
		b.SecurityGroups = &[]string{}
	}
	return network.PortRequest{NetworkID: b.NetworkID, ProjectID: b.id(), MACAddress: b.MACAddress, Name: b.Name,
		Description: b.Description, AdminStateUp: b.AdminStateUp, FixedIPs: b.FixedIPs, DeviceID: b.DeviceID,
		DeviceOwner: b.DeviceOwner, SecurityGroups: b.SecurityGroups, PortSecurity: b.PortSecurity, HostID: b.HostID}, nil
}

func (a *API) listPorts(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	list, err := a.Network.ListPorts(r.Context(), claims(r), network.PortFilter{DeviceID: q.Get("device_id"), NetworkID: q.Get("network_id")})
	if err != nil {
		return err
	}
	return writeList(w, r, "ports", list)
}

func (a *API) showPort(w http.ResponseWriter, r *http.Request) error {
	p, err := a.Network.GetPort(r.Context(), claims(r), id(r))
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "port", p)
}

func (a *API) createPort(w http.ResponseWriter, r *http.Request) error {
	req, err := decodePort(r)
	if err != nil {
		return err
	}
	p, err := a.Network.CreatePort(r.Context(), claims(r), req)
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusCreated, "port", p)
}

func (a *API) updatePort(w http.ResponseWriter, r *http.Request) error {
	req, err := decodePort(r)
	if err != nil {
		return err
	}
	if req.NetworkID != "" {
		return osapi.Errorf(http.StatusBadRequest, "Cannot update read-only attribute network_id.")
	}
	rev, err := ifMatch(r)
	if err != nil {
		return err
	}
	p, err := a.Network.UpdatePort(r.Context(), claims(r), id(r), req, rev)
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "port", p)
}

func (a *API) deletePort(w http.ResponseWriter, r *http.Request) error {
	if err := a.Network.DeletePort(r.Context(), claims(r), id(r)); err != nil {
		return err
	}
	return noContent(w)
}
