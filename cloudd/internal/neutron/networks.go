package neutron

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/network"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

func (a *API) networkRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/networks", osapi.HandlerFunc(a.listNetworks))
	r.Method(http.MethodPost, "/networks", osapi.HandlerFunc(a.createNetwork))
	r.Method(http.MethodGet, "/networks/{id}", osapi.HandlerFunc(a.showNetwork))
	r.Method(http.MethodPut, "/networks/{id}", osapi.HandlerFunc(a.updateNetwork))
	r.Method(http.MethodDelete, "/networks/{id}", osapi.HandlerFunc(a.deleteNetwork))
	r.Method(http.MethodGet, "/subnets", osapi.HandlerFunc(a.listSubnets))
	r.Method(http.MethodPost, "/subnets", osapi.HandlerFunc(a.createSubnet))
	r.Method(http.MethodGet, "/subnets/{id}", osapi.HandlerFunc(a.showSubnet))
	r.Method(http.MethodPut, "/subnets/{id}", osapi.HandlerFunc(a.updateSubnet))
	r.Method(http.MethodDelete, "/subnets/{id}", osapi.HandlerFunc(a.deleteSubnet))
}

type networkBody struct {
	project
	Name         *string `json:"name"`
	Description  *string `json:"description"`
	AdminStateUp *bool   `json:"admin_state_up"`
	Shared       *bool   `json:"shared"`
	External     *bool   `json:"router:external"`
	MTU          flexInt `json:"mtu"`
	PortSecurity *bool   `json:"port_security_enabled"`
}

// check refuses what networks do not do: port security is set per port.
func (b networkBody) check() error {
	if b.PortSecurity != nil && !*b.PortSecurity {
		return osapi.Errorf(http.StatusBadRequest, "port_security_enabled=false is not supported on networks; set it on each port.")
	}
	return nil
}

func (b networkBody) update() network.NetworkUpdate {
	return network.NetworkUpdate{ProjectID: b.id(), Name: b.Name, Description: b.Description, AdminStateUp: b.AdminStateUp,
		Shared: b.Shared, External: b.External, MTU: b.MTU.v}
}

func (a *API) listNetworks(w http.ResponseWriter, r *http.Request) error {
	list, err := a.Network.ListNetworks(r.Context(), claims(r))
	if err != nil {
		return err
	}
	return writeList(w, r, "networks", list)
}

func (a *API) showNetwork(w http.ResponseWriter, r *http.Request) error {
	n, err := a.Network.GetNetwork(r.Context(), claims(r), id(r))
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "network", n)
}

func (a *API) createNetwork(w http.ResponseWriter, r *http.Request) error {
	var b networkBody
	if _, err := decode(r, "network", &b); err != nil {
		return err
	}
	if err := b.check(); err != nil {
		return err
	}
	n, err := a.Network.CreateNetwork(r.Context(), claims(r), b.update())
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusCreated, "network", n)
}

func (a *API) updateNetwork(w http.ResponseWriter, r *http.Request) error {
	var b networkBody
	if _, err := decode(r, "network", &b); err != nil {
		return err
	}
	if err := b.check(); err != nil {
		return err
	}
	rev, err := ifMatch(r)
	if err != nil {
		return err
	}
	n, err := a.Network.UpdateNetwork(r.Context(), claims(r), id(r), b.update(), rev)
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "network", n)
}

func (a *API) deleteNetwork(w http.ResponseWriter, r *http.Request) error {
	if err := a.Network.DeleteNetwork(r.Context(), claims(r), id(r)); err != nil {
		return err
	}
	return noContent(w)
}

type subnetBody struct {
	project
	NetworkID       string               `json:"network_id"`
	Name            *string              `json:"name"`
	Description     *string              `json:"description"`
	IPVersion       flexInt              `json:"ip_version"`
	CIDR            string               `json:"cidr"`
	GatewayIP       *string              `json:"gateway_ip"`
	EnableDHCP      *bool                `json:"enable_dhcp"`
	DNSNameservers  *[]string            `json:"dns_nameservers"`
	HostRoutes      *[]network.HostRoute `json:"host_routes"`
	AllocationPools *[]network.Pool      `json:"allocation_pools"`
	SubnetPoolID    *string              `json:"subnetpool_id"`
}

func decodeSubnet(r *http.Request) (network.SubnetUpdate, error) {
	var b subnetBody
	fields, err := decode(r, "subnet", &b)
	if err != nil {
		return network.SubnetUpdate{}, err
	}
	if b.SubnetPoolID != nil {
		return network.SubnetUpdate{}, osapi.Errorf(http.StatusBadRequest, "Subnet pools are not supported; give a cidr.")
	}
	version := 0
	if b.IPVersion.v != nil {
		version = *b.IPVersion.v
		if version != 4 && version != 6 {
			return network.SubnetUpdate{}, osapi.Errorf(http.StatusBadRequest, "Invalid input for ip_version. Reason: '%d' is not in [4, 6].", version)
		}
	}
	_, gatewaySet := fields["gateway_ip"]
	if b.GatewayIP != nil && strings.TrimSpace(*b.GatewayIP) == "" {
		b.GatewayIP = nil
	}
	return network.SubnetUpdate{ProjectID: b.id(), NetworkID: b.NetworkID, Name: b.Name, Description: b.Description,
		IPVersion: version, CIDR: b.CIDR, GatewaySet: gatewaySet, GatewayIP: b.GatewayIP, EnableDHCP: b.EnableDHCP,
		DNSNameservers: b.DNSNameservers, HostRoutes: b.HostRoutes, AllocationPools: b.AllocationPools}, nil
}

func (a *API) listSubnets(w http.ResponseWriter, r *http.Request) error {
	list, err := a.Network.ListSubnets(r.Context(), claims(r))
	if err != nil {
		return err
	}
	return writeList(w, r, "subnets", list)
}

func (a *API) showSubnet(w http.ResponseWriter, r *http.Request) error {
	s, err := a.Network.GetSubnet(r.Context(), claims(r), id(r))
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "subnet", s)
}

func (a *API) createSubnet(w http.ResponseWriter, r *http.Request) error {
	u, err := decodeSubnet(r)
	if err != nil {
		return err
	}
	s, err := a.Network.CreateSubnet(r.Context(), claims(r), u)
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusCreated, "subnet", s)
}

func (a *API) updateSubnet(w http.ResponseWriter, r *http.Request) error {
	u, err := decodeSubnet(r)
	if err != nil {
		return err
	}
	if u.CIDR != "" || u.NetworkID != "" || u.IPVersion != 0 {
		return osapi.Errorf(http.StatusBadRequest, "Cannot update read-only attribute cidr, network_id or ip_version.")
	}
	rev, err := ifMatch(r)
	if err != nil {
		return err
	}
	s, err := a.Network.UpdateSubnet(r.Context(), claims(r), id(r), u, rev)
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "subnet", s)
}

func (a *API) deleteSubnet(w http.ResponseWriter, r *http.Request) error {
	if err := a.Network.DeleteSubnet(r.Context(), claims(r), id(r)); err != nil {
		return err
	}
	return noContent(w)
}

// rawString reads a JSON string or null field ("" for null or absent).
func rawString(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}
