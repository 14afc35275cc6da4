package neutron

import (
	"encoding/json"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/network"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

func (a *API) routerRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/routers", osapi.HandlerFunc(a.listRouters))
	r.Method(http.MethodPost, "/routers", osapi.HandlerFunc(a.createRouter))
	r.Method(http.MethodGet, "/routers/{id}", osapi.HandlerFunc(a.showRouter))
	r.Method(http.MethodPut, "/routers/{id}", osapi.HandlerFunc(a.updateRouter))
	r.Method(http.MethodDelete, "/routers/{id}", osapi.HandlerFunc(a.deleteRouter))
	r.Method(http.MethodPut, "/routers/{id}/add_router_interface", osapi.HandlerFunc(a.routerInterface(true)))
	r.Method(http.MethodPut, "/routers/{id}/remove_router_interface", osapi.HandlerFunc(a.routerInterface(false)))
	r.Method(http.MethodGet, "/floatingips", osapi.HandlerFunc(a.listFloatingIPs))
	r.Method(http.MethodPost, "/floatingips", osapi.HandlerFunc(a.createFloatingIP))
	r.Method(http.MethodGet, "/floatingips/{id}", osapi.HandlerFunc(a.showFloatingIP))
	r.Method(http.MethodPut, "/floatingips/{id}", osapi.HandlerFunc(a.updateFloatingIP))
	r.Method(http.MethodDelete, "/floatingips/{id}", osapi.HandlerFunc(a.deleteFloatingIP))
}

type routerBody struct {
	project
	Name         *string                 `json:"name"`
	Description  *string                 `json:"description"`
	AdminStateUp *bool                   `json:"admin_state_up"`
	Gateway      *network.GatewayRequest `json:"external_gateway_info"`
}

func decodeRouter(r *http.Request) (network.RouterUpdate, error) {
	var b routerBody
	fields, err := decode(r, "router", &b)
	if err != nil {
		return network.RouterUpdate{}, err
	}
	_, gwSet := fields["external_gateway_info"]
	if b.Gateway != nil && b.Gateway.NetworkID == "" {
		b.Gateway = nil // {} clears the gateway, as null does
	}
	return network.RouterUpdate{ProjectID: b.id(), Name: b.Name, Description: b.Description, AdminStateUp: b.AdminStateUp,
		GatewaySet: gwSet, Gateway: b.Gateway}, nil
}

func (a *API) listRouters(w http.ResponseWriter, r *http.Request) error {
	list, err := a.Network.ListRouters(r.Context(), claims(r))
	if err != nil {
		return err
	}
	return writeList(w, r, "routers", list)
}

func (a *API) showRouter(w http.ResponseWriter, r *http.Request) error {
	rt, err := a.Network.GetRouter(r.Context(), claims(r), id(r))
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "router", rt)
}

func (a *API) createRouter(w http.ResponseWriter, r *http.Request) error {
	u, err := decodeRouter(r)
	if err != nil {
		return err
	}
	rt, err := a.Network.CreateRouter(r.Context(), claims(r), u)
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusCreated, "router", rt)
}

func (a *API) updateRouter(w http.ResponseWriter, r *http.Request) error {
	u, err := decodeRouter(r)
	if err != nil {
		return err
	}
	rev, err := ifMatch(r)
	if err != nil {
		return err
	}
	rt, err := a.Network.UpdateRouter(r.Context(), claims(r), id(r), u, rev)
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "router", rt)
}

func (a *API) deleteRouter(w http.ResponseWriter, r *http.Request) error {
	if err := a.Network.DeleteRouter(r.Context(), claims(r), id(r)); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) routerInterface(add bool) osapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var b struct {
			SubnetID string `json:"subnet_id"`
			PortID   string `json:"port_id"`
		}
		if err := osapi.DecodeJSON(r, &b, false); err != nil {
			return err
		}
		var info network.InterfaceInfo
		var err error
		if add {
			info, err = a.Network.AddInterface(r.Context(), claims(r), id(r), b.SubnetID, b.PortID)
		} else {
			info, err = a.Network.RemoveInterface(r.Context(), claims(r), id(r), b.SubnetID, b.PortID)
		}
		if err != nil {
			return err
		}
		osapi.WriteJSON(w, http.StatusOK, info)
		return nil
	}
}

type floatingIPBody struct {
	project
	FloatingNetworkID string          `json:"floating_network_id"`
	FloatingIPAddress string          `json:"floating_ip_address"`
	SubnetID          string          `json:"subnet_id"`
	Description       *string         `json:"description"`
	PortID            json.RawMessage `json:"port_id"`
	FixedIPAddress    string          `json:"fixed_ip_address"`
}

func decodeFloatingIP(r *http.Request) (network.FloatingIPRequest, error) {
	var b floatingIPBody
	fields, err := decode(r, "floatingip", &b)
	if err != nil {
		return network.FloatingIPRequest{}, err
	}
	_, portSet := fields["port_id"]
	return network.FloatingIPRequest{ProjectID: b.id(), FloatingNetworkID: b.FloatingNetworkID, FloatingIPAddress: b.FloatingIPAddress,
		SubnetID: b.SubnetID, Description: b.Description, PortSet: portSet, PortID: rawString(b.PortID), FixedIPAddress: b.FixedIPAddress}, nil
}

func (a *API) listFloatingIPs(w http.ResponseWriter, r *http.Request) error {
	list, err := a.Network.ListFloatingIPs(r.Context(), claims(r))
	if err != nil {
		return err
	}
	return writeList(w, r, "floatingips", list)
}

func (a *API) showFloatingIP(w http.ResponseWriter, r *http.Request) error {
	f, err := a.Network.GetFloatingIP(r.Context(), claims(r), id(r))
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "floatingip", f)
}

func (a *API) createFloatingIP(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeFloatingIP(r)
	if err != nil {
		return err
	}
	f, err := a.Network.CreateFloatingIP(r.Context(), claims(r), req)
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusCreated, "floatingip", f)
}

func (a *API) updateFloatingIP(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeFloatingIP(r)
	if err != nil {
		return err
	}
	rev, err := ifMatch(r)
	if err != nil {
		return err
	}
	f, err := a.Network.UpdateFloatingIP(r.Context(), claims(r), id(r), req, rev)
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "floatingip", f)
}

func (a *API) deleteFloatingIP(w http.ResponseWriter, r *http.Request) error {
	if err := a.Network.DeleteFloatingIP(r.Context(), claims(r), id(r)); err != nil {
		return err
	}
	return noContent(w)
}
