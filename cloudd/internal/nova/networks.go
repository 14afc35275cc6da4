package nova

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"

	"github.com/google/uuid"

	"github.com/stratus-cloud/stratus/cloudd/internal/compute"
	"github.com/stratus-cloud/stratus/cloudd/internal/network"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

// serverAddresses is a server's "addresses": by network name, its fixed
// and floating addresses.
type serverAddresses = map[string][]network.ServerAddress

// serverNetworking is what networking adds to a server's view.
type serverNetworking struct {
	addresses serverAddresses
	groups    []nameView
}

// networking looks up the addresses and security groups of servers, one
// query each for the whole page.
func (a *API) networking(r *http.Request, servers ...compute.Server) (map[string]serverNetworking, error) {
	ids := make([]string, len(servers))
	for i, s := range servers {
		ids[i] = s.ID
	}
	addrs, err := a.Compute.Addresses(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	groups, err := a.Compute.SecurityGroupNames(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]serverNetworking, len(ids))
	for _, id := range ids {
		n := serverNetworking{addresses: addrs[id]}
		for _, g := range groups[id] {
			n.groups = append(n.groups, nameView{Name: g})
		}
		out[id] = n
	}
	return out, nil
}

// requestedNetworks reads a create's "networks": a list of {"uuid"},
// {"port"} or {"uuid", "fixed_ip"}. Absent, null or an empty list (and
// "auto") attach as Nova does without networks; "none" asks for no NICs.
func requestedNetworks(raw json.RawMessage) ([]network.ServerNetwork, error) {
	s := strings.TrimSpace(string(raw))
	switch s {
	case "", "null", "[]", `"auto"`:
		return nil, nil
	case `"none"`:
		return []network.ServerNetwork{}, nil
	}
	var list []struct {
		UUID    string `json:"uuid"`
		Port    string `json:"port"`
		FixedIP string `json:"fixed_ip"`
		Tag     string `json:"tag"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute networks: a list of objects with uuid, port or fixed_ip is required.")
	}
	out := make([]network.ServerNetwork, 0, len(list))
	seenPorts := map[string]bool{}
	for _, n := range list {
		switch {
		case n.Port != "":
			if seenPorts[n.Port] {
				return nil, osapi.Errorf(http.StatusBadRequest, "Duplicate networks (%s) are not allowed", n.Port)
			}
			seenPorts[n.Port] = true
			out = append(out, network.ServerNetwork{PortID: n.Port})
		case n.UUID != "":
			if _, err := uuid.Parse(n.UUID); err != nil {
				return nil, osapi.Errorf(http.StatusBadRequest, "Bad networks format: network uuid is not in proper format (%s)", n.UUID)
			}
			if n.FixedIP != "" {
				if _, err := netip.ParseAddr(n.FixedIP); err != nil {
					return nil, osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute fixed_ip. Value: %s. '%s' is not a valid IP address.", n.FixedIP, n.FixedIP)
				}
			}
			out = append(out, network.ServerNetwork{NetworkID: n.UUID, FixedIP: n.FixedIP})
		default:
			return nil, osapi.Errorf(http.StatusBadRequest, "Bad networks format: each network needs a uuid or a port.")
		}
	}
	return out, nil
}

// groupNames are the names (or ids) of a create's "security_groups".
func groupNames(list []struct {
	Name string `json:"name"`
}) []string {
	var out []string
	for _, g := range list {
		if g.Name != "" {
			out = append(out, g.Name)
		}
	}
	return out
}
