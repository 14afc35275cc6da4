package nova

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/network"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

// A server's security groups are its ports' (Neutron's); Nova lists them
// per server and changes them on every port with two server actions.

func (a *API) securityGroupRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/servers/{id}/os-security-groups", osapi.HandlerFunc(a.listServerSecurityGroups))
	// Nova's read-only proxy of Neutron's groups, which openstack CLI 6.0
	// uses to resolve the group of "server add/remove security group"
	// (by id; then by name from /os-security-groups/detail, which Nova
	// lacks but answering it as the list lets names work too).
	r.Method(http.MethodGet, "/os-security-groups", osapi.HandlerFunc(a.listSecurityGroups))
	r.Method(http.MethodGet, "/os-security-groups/detail", osapi.HandlerFunc(a.listSecurityGroups))
	r.Method(http.MethodGet, "/os-security-groups/{group}", osapi.HandlerFunc(a.showSecurityGroup))
}

// securityGroupView is Nova's security_group.
type securityGroupView struct {
	ID          string             `json:"id"`
	Name        string             `json:"name"`
	Description string             `json:"description"`
	TenantID    string             `json:"tenant_id"`
	Rules       []securityRuleView `json:"rules"`
}

// securityRuleView is Nova's security_group_rule: ingress only, a
// remote group by name or else an address range.
type securityRuleView struct {
	ID            string            `json:"id"`
	ParentGroupID string            `json:"parent_group_id"`
	IPProtocol    *string           `json:"ip_protocol"`
	FromPort      *int              `json:"from_port"`
	ToPort        *int              `json:"to_port"`
	Group         map[string]string `json:"group"`
	IPRange       map[string]string `json:"ip_range"`
}

func securityGroupJSON(g network.SecurityGroup, remotes map[string]network.SecurityGroup) securityGroupView {
	v := securityGroupView{ID: g.ID, Name: g.Name, Description: g.Description, TenantID: g.ProjectID, Rules: []securityRuleView{}}
	for _, r := range g.Rules {
		if r.Direction != "ingress" {
			continue
		}
		rule := securityRuleView{ID: r.ID, ParentGroupID: g.ID, IPProtocol: r.Protocol, FromPort: r.PortRangeMin, ToPort: r.PortRangeMax,
			Group: map[string]string{}, IPRange: map[string]string{}}
		if r.Protocol != nil && r.PortRangeMin == nil && r.PortRangeMax == nil {
			// Nova spells "any port" as the whole range, or -1 for ICMP and the rest.
			from, to := -1, -1
			if p := strings.ToLower(*r.Protocol); p == "tcp" || p == "udp" {
				from, to = 1, 65535
			}
			rule.FromPort, rule.ToPort = &from, &to
		}
		switch {
		case r.RemoteGroupID != nil:
			remote := remotes[*r.RemoteGroupID]
			rule.Group = map[string]string{"name": remote.Name, "tenant_id": remote.ProjectID}
		case r.RemoteIPPrefix != nil:
			rule.IPRange = map[string]string{"cidr": *r.RemoteIPPrefix}
		default:
			rule.IPRange = map[string]string{"cidr": "0.0.0.0/0"}
		}
		v.Rules = append(v.Rules, rule)
	}
	return v
}

func (a *API) listServerSecurityGroups(w http.ResponseWriter, r *http.Request) error {
	groups, remotes, err := a.Compute.SecurityGroups(r.Context(), claims(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	out := make([]securityGroupView, len(groups))
	for i, g := range groups {
		out[i] = securityGroupJSON(g, remotes)
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"security_groups": out})
	return nil
}

func (a *API) listSecurityGroups(w http.ResponseWriter, r *http.Request) error {
	groups, err := a.Compute.ProjectSecurityGroups(r.Context(), claims(r))
	if err != nil {
		return err
	}
	remotes := byID(groups)
	out := make([]securityGroupView, len(groups))
	for i, g := range groups {
		out[i] = securityGroupJSON(g, remotes)
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"security_groups": out})
	return nil
}

func (a *API) showSecurityGroup(w http.ResponseWriter, r *http.Request) error {
	groups, err := a.Compute.ProjectSecurityGroups(r.Context(), claims(r))
	if err != nil {
		return err
	}
	id, all := chi.URLParam(r, "group"), byID(groups)
	g, ok := all[id]
	if !ok {
		return osapi.Errorf(http.StatusNotFound, "Security group %s not found.", id)
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"security_group": securityGroupJSON(g, all)})
	return nil
}

func byID(groups []network.SecurityGroup) map[string]network.SecurityGroup {
	out := make(map[string]network.SecurityGroup, len(groups))
	for _, g := range groups {
		out[g.ID] = g
	}
	return out
}

// securityGroupName reads the group of an addSecurityGroup or
// removeSecurityGroup action, with Nova's messages.
func securityGroupName(raw json.RawMessage) (string, error) {
	var args map[string]any
	if err := json.Unmarshal(raw, &args); err != nil || args == nil {
		return "", osapi.Errorf(http.StatusBadRequest, "Missing parameter dict")
	}
	name, ok := args["name"]
	if !ok {
		return "", osapi.Errorf(http.StatusBadRequest, "Security group not specified")
	}
	s, _ := name.(string)
	if strings.TrimSpace(s) == "" {
		return "", osapi.Errorf(http.StatusBadRequest, "Security group name cannot be empty")
	}
	return s, nil
}
