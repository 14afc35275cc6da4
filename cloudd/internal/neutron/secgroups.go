package neutron

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/network"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

func (a *API) securityGroupRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/security-groups", osapi.HandlerFunc(a.listGroups))
	r.Method(http.MethodPost, "/security-groups", osapi.HandlerFunc(a.createGroup))
	r.Method(http.MethodGet, "/security-groups/{id}", osapi.HandlerFunc(a.showGroup))
	r.Method(http.MethodPut, "/security-groups/{id}", osapi.HandlerFunc(a.updateGroup))
	r.Method(http.MethodDelete, "/security-groups/{id}", osapi.HandlerFunc(a.deleteGroup))
	r.Method(http.MethodGet, "/security-group-rules", osapi.HandlerFunc(a.listRules))
	r.Method(http.MethodPost, "/security-group-rules", osapi.HandlerFunc(a.createRule))
	r.Method(http.MethodGet, "/security-group-rules/{id}", osapi.HandlerFunc(a.showRule))
	r.Method(http.MethodDelete, "/security-group-rules/{id}", osapi.HandlerFunc(a.deleteRule))
}

type groupBody struct {
	project
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Stateful    *bool   `json:"stateful"` // only true: groups are stateful
}

func (a *API) listGroups(w http.ResponseWriter, r *http.Request) error {
	list, err := a.Network.ListSecurityGroups(r.Context(), claims(r))
	if err != nil {
		return err
	}
	return writeList(w, r, "security_groups", list)
}

func (a *API) showGroup(w http.ResponseWriter, r *http.Request) error {
	g, err := a.Network.GetSecurityGroup(r.Context(), claims(r), id(r))
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "security_group", g)
}

func (a *API) createGroup(w http.ResponseWriter, r *http.Request) error {
	var b groupBody
	if _, err := decode(r, "security_group", &b); err != nil {
		return err
	}
	if b.Stateful != nil && !*b.Stateful {
		return osapi.Errorf(http.StatusBadRequest, "Stateless security groups are not supported.")
	}
	g, err := a.Network.CreateSecurityGroup(r.Context(), claims(r), network.GroupUpdate{ProjectID: b.id(), Name: b.Name, Description: b.Description})
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusCreated, "security_group", g)
}

func (a *API) updateGroup(w http.ResponseWriter, r *http.Request) error {
	var b groupBody
	if _, err := decode(r, "security_group", &b); err != nil {
		return err
	}
	rev, err := ifMatch(r)
	if err != nil {
		return err
	}
	g, err := a.Network.UpdateSecurityGroup(r.Context(), claims(r), id(r), network.GroupUpdate{Name: b.Name, Description: b.Description}, rev)
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "security_group", g)
}

func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	if err := a.Network.DeleteSecurityGroup(r.Context(), claims(r), id(r)); err != nil {
		return err
	}
	return noContent(w)
}

type ruleBody struct {
	project
	SecurityGroupID string  `json:"security_group_id"`
	Direction       string  `json:"direction"`
	EtherType       string  `json:"ethertype"`
	Protocol        any     `json:"protocol"` // a name or a number
	PortRangeMin    flexInt `json:"port_range_min"`
	PortRangeMax    flexInt `json:"port_range_max"`
	RemoteIPPrefix  *string `json:"remote_ip_prefix"`
	RemoteGroupID   *string `json:"remote_group_id"`
	Description     string  `json:"description"`
}

func (a *API) createRule(w http.ResponseWriter, r *http.Request) error {
	var b ruleBody
	if _, err := decode(r, "security_group_rule", &b); err != nil {
		return err
	}
	var proto *string
	switch p := b.Protocol.(type) {
	case string:
		proto = &p
	case float64:
		s := strconv.FormatFloat(p, 'f', -1, 64)
		proto = &s
	}
	if b.RemoteIPPrefix != nil && *b.RemoteIPPrefix == "" {
		b.RemoteIPPrefix = nil
	}
	if b.RemoteGroupID != nil && *b.RemoteGroupID == "" {
		b.RemoteGroupID = nil
	}
	rule, err := a.Network.CreateSecurityGroupRule(r.Context(), claims(r), network.RuleRequest{
		ProjectID: b.id(), SecurityGroupID: b.SecurityGroupID, Direction: b.Direction, EtherType: b.EtherType, Protocol: proto,
		PortRangeMin: b.PortRangeMin.v, PortRangeMax: b.PortRangeMax.v, RemoteIPPrefix: b.RemoteIPPrefix, RemoteGroupID: b.RemoteGroupID,
		Description: b.Description,
	})
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusCreated, "security_group_rule", rule)
}

func (a *API) listRules(w http.ResponseWriter, r *http.Request) error {
	list, err := a.Network.ListSecurityGroupRules(r.Context(), claims(r))
	if err != nil {
		return err
	}
	return writeList(w, r, "security_group_rules", list)
}

func (a *API) showRule(w http.ResponseWriter, r *http.Request) error {
	rule, err := a.Network.GetSecurityGroupRule(r.Context(), claims(r), id(r))
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "security_group_rule", rule)
}

func (a *API) deleteRule(w http.ResponseWriter, r *http.Request) error {
	if err := a.Network.DeleteSecurityGroupRule(r.Context(), claims(r), id(r)); err != nil {
		return err
	}
	return noContent(w)
}
