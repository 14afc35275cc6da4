package network

import (
	"context"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/dataplane"
	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// SecurityGroup is a named set of allow rules applied to ports.
type SecurityGroup struct {
	ID             string              `json:"id"`
	Name           string              `json:"name"`
	Description    string              `json:"description"`
	ProjectID      string              `json:"project_id"`
	TenantID       string              `json:"tenant_id"`
	Rules          []SecurityGroupRule `json:"security_group_rules"`
	Stateful       bool                `json:"stateful"`
	Shared         bool                `json:"shared"`
	Tags           []string            `json:"tags"`
	RevisionNumber int64               `json:"revision_number"`
	CreatedAt      Time                `json:"created_at"`
	UpdatedAt      Time                `json:"updated_at"`
	isDefault      bool
}

// SecurityGroupRule allows one kind of traffic. Nil fields are JSON null
// (any).
type SecurityGroupRule struct {
	ID              string  `json:"id"`
	SecurityGroupID string  `json:"security_group_id"`
	Direction       string  `json:"direction"`
	EtherType       string  `json:"ethertype"`
	Protocol        *string `json:"protocol"`
	PortRangeMin    *int    `json:"port_range_min"`
	PortRangeMax    *int    `json:"port_range_max"`
	RemoteIPPrefix  *string `json:"remote_ip_prefix"`
	RemoteGroupID   *string `json:"remote_group_id"`
	RemoteAddrGroup *string `json:"remote_address_group_id"`
	Description     string  `json:"description"`
	ProjectID       string  `json:"project_id"`
	TenantID        string  `json:"tenant_id"`
	RevisionNumber  int64   `json:"revision_number"`
	CreatedAt       Time    `json:"created_at"`
	UpdatedAt       Time    `json:"updated_at"`
}

// GroupUpdate holds the fields of a security group create or update.
type GroupUpdate struct {
	ProjectID   string
	Name        *string
	Description *string
}

const groupCols = "g.id, g.project_id, g.name, g.description, g.is_default, g.revision_number, g.created_at, g.updated_at"

func scanGroup(row pgx.CollectableRow) (SecurityGroup, error) {
	var g SecurityGroup
	err := row.Scan(&g.ID, &g.ProjectID, &g.Name, &g.Description, &g.isDefault, &g.RevisionNumber,
		(*time.Time)(&g.CreatedAt), (*time.Time)(&g.UpdatedAt))
	g.TenantID, g.Stateful, g.Rules = g.ProjectID, true, []SecurityGroupRule{}
	return g, err
}

const ruleCols = `r.id, r.security_group_id, r.project_id, r.direction, r.ethertype, r.protocol, r.port_range_min, r.port_range_max,
	r.remote_ip_prefix::text, r.remote_group_id, r.description, r.revision_number, r.created_at, r.updated_at`

func scanRule(row pgx.CollectableRow) (SecurityGroupRule, error) {
	var r SecurityGroupRule
	err := row.Scan(&r.ID, &r.SecurityGroupID, &r.ProjectID, &r.Direction, &r.EtherType, &r.Protocol, &r.PortRangeMin, &r.PortRangeMax,
		&r.RemoteIPPrefix, &r.RemoteGroupID, &r.Description, &r.RevisionNumber, (*time.Time)(&r.CreatedAt), (*time.Time)(&r.UpdatedAt))
	r.TenantID = r.ProjectID
	return r, err
}

// defaultRules are Neutron's rules of a project's default group: any
// egress, and ingress from members of the same group.
func defaultRules(groupID string) []SecurityGroupRule {
	var out []SecurityGroupRule
	for _, eth := range []string{"IPv4", "IPv6"} {
		out = append(out,
			SecurityGroupRule{Direction: "egress", EtherType: eth},
			SecurityGroupRule{Direction: "ingress", EtherType: eth, RemoteGroupID: &groupID})
	}
	return out
}

// ensureDefaultGroup returns the project's default group, creating it with
// its rules on first use. Two first requests at once both get the same
// group: the partial unique index lets one insert win and the other wait
// for it.
func (s *Service) ensureDefaultGroup(ctx context.Context, project string) (string, error) {
	var id string
	err := s.pool.QueryRow(ctx, "SELECT id FROM security_groups WHERE project_id = $1 AND is_default", project).Scan(&id)
	if err != pgx.ErrNoRows {
		return id, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		fresh := uuid.NewString()
		tag, err := tx.Exec(ctx, `INSERT INTO security_groups (id, project_id, name, description, is_default)
			VALUES ($1, $2, 'default', 'Default security group', true) ON CONFLICT DO NOTHING`, fresh, project)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return tx.QueryRow(ctx, "SELECT id FROM security_groups WHERE project_id = $1 AND is_default", project).Scan(&id)
		}
		id = fresh
		for _, r := range defaultRules(id) {
			r.SecurityGroupID, r.ProjectID = id, project
			if err := insertRule(ctx, tx, &r); err != nil {
				return err
			}
		}
		return nil
	})
	return id, err
}

// EnsureDefaultGroup makes sure c's project has its default group, as
// Neutron does on a project's first security group listing.
func (s *Service) EnsureDefaultGroup(ctx context.Context, c *token.Claims) error {
	if c.ProjectID == "" {
		return nil
	}
	_, err := s.ensureDefaultGroup(ctx, c.ProjectID)
	return err
}

// ListSecurityGroups returns the groups c may see, with their rules.
func (s *Service) ListSecurityGroups(ctx context.Context, c *token.Claims) ([]SecurityGroup, error) {
	if err := policy.Authorize(c, policy.Read, "", "security groups"); err != nil {
		return nil, err
	}
	if err := s.EnsureDefaultGroup(ctx, c); err != nil {
		return nil, err
	}
	return s.groups(ctx, s.pool, policy.ProjectFilter(c), "")
}

func (s *Service) groups(ctx context.Context, q db.Querier, project, id string) ([]SecurityGroup, error) {
	rows, _ := q.Query(ctx, "SELECT "+groupCols+` FROM security_groups g WHERE ($1 = '' OR g.project_id = $1) AND ($2 = '' OR g.id = $2)
		ORDER BY g.created_at, g.id`, project, id)
	list, err := pgx.CollectRows(rows, scanGroup)
	if err != nil || len(list) == 0 {
		return list, err
	}
	index := map[string]*SecurityGroup{}
	ids := make([]string, len(list))
	for i := range list {
		index[list[i].ID], ids[i] = &list[i], list[i].ID
	}
	rows, _ = q.Query(ctx, "SELECT "+ruleCols+" FROM security_group_rules r WHERE r.security_group_id = ANY($1) ORDER BY r.created_at, r.id", ids)
	rules, err := pgx.CollectRows(rows, scanRule)
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		g := index[r.SecurityGroupID]
		g.Rules = append(g.Rules, r)
	}
	return list, fillTags(ctx, q, list, groupTags)
}

// GetSecurityGroup returns a group c may see.
func (s *Service) GetSecurityGroup(ctx context.Context, c *token.Claims, id string) (SecurityGroup, error) {
	list, err := s.groups(ctx, s.pool, "", id)
	if err != nil {
		return SecurityGroup{}, err
	}
	if len(list) == 0 {
		return SecurityGroup{}, notFound("SecurityGroup", id)
	}
	return list[0], authorizeIn(c, policy.Read, list[0].ProjectID, "SecurityGroup", id)
}

// CreateSecurityGroup creates a group with Neutron's default egress rules.
func (s *Service) CreateSecurityGroup(ctx context.Context, c *token.Claims, u GroupUpdate) (SecurityGroup, error) {
	project, err := ownerFor(c, u.ProjectID)
	if err != nil {
		return SecurityGroup{}, err
	}
	if err := policy.Authorize(c, policy.Write, project, "security groups"); err != nil {
		return SecurityGroup{}, err
	}
	if u.Name == nil || *u.Name == "" {
		u.Name = ptr("")
	}
	if *u.Name == "default" {
		return SecurityGroup{}, neutronError(http.StatusConflict, "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
	}
	if _, err := s.ensureDefaultGroup(ctx, project); err != nil {
		return SecurityGroup{}, err
	}
	id := uuid.NewString()
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if err := s.reserve(ctx, tx, project, "security_group"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO security_groups (id, project_id, name, description) VALUES ($1, $2, $3, coalesce($4, ''))`,
			id, project, *u.Name, u.Description); err != nil {
			return err
		}
		for _, eth := range []string{"IPv4", "IPv6"} {
			r := SecurityGroupRule{SecurityGroupID: id, ProjectID: project, Direction: "egress", EtherType: eth}
			if err := insertRule(ctx, tx, &r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return SecurityGroup{}, err
	}
	return s.GetSecurityGroup(ctx, c, id)
}

// UpdateSecurityGroup renames or redescribes a group.
func (s *Service) UpdateSecurityGroup(ctx context.Context, c *token.Claims, id string, u GroupUpdate, revision int64) (SecurityGroup, error) {
	g, err := s.GetSecurityGroup(ctx, c, id)
	if err != nil {
		return SecurityGroup{}, err
	}
	if err := authorizeIn(c, policy.Write, g.ProjectID, "SecurityGroup", id); err != nil {
		return SecurityGroup{}, err
	}
	if g.isDefault && u.Name != nil && *u.Name != "default" {
		return SecurityGroup{}, neutronError(http.StatusConflict, "SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.")
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if err := checkRevision(ctx, tx, "security_groups", id, revision); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE security_groups SET name = coalesce($2, name), description = coalesce($3, description) WHERE id = $1",
			id, u.Name, u.Description)
		return err
	})
	if err != nil {
		return SecurityGroup{}, err
	}
	return s.GetSecurityGroup(ctx, c, id)
}

// DeleteSecurityGroup removes a group no port uses.
func (s *Service) DeleteSecurityGroup(ctx context.Context, c *token.Claims, id string) error {
	g, err := s.GetSecurityGroup(ctx, c, id)
	if err != nil {
		return err
	}
	if err := authorizeIn(c, policy.Write, g.ProjectID, "SecurityGroup", id); err != nil {
		return err
	}
	if g.isDefault && !policy.IsAdmin(c) {
		return neutronError(http.StatusConflict, "SecurityGroupCannotRemoveDefault", "Removing default security group not allowed.")
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT 1 FROM security_groups WHERE id = $1 FOR UPDATE", id); err != nil {
			return err
		}
		var inUse bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM port_security_groups WHERE security_group_id = $1)", id).Scan(&inUse); err != nil {
			return err
		}
		if inUse {
			return neutronError(http.StatusConflict, "SecurityGroupInUse", "Security Group %s in use.", id)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM network_tags WHERE resource_id = $1", id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "DELETE FROM security_groups WHERE id = $1", id)
		return err
	})
}

// RuleRequest is a security group rule create.
type RuleRequest struct {
	ProjectID       string
	SecurityGroupID string
	Direction       string
	EtherType       string
	Protocol        *string
	PortRangeMin    *int
	PortRangeMax    *int
	RemoteIPPrefix  *string
	RemoteGroupID   *string
	Description     string
}

// portProtocols take port ranges; icmp kinds take type and code instead.
var portProtocols = map[string]bool{"tcp": true, "udp": true, "sctp": true, "dccp": true, "udplite": true,
	"6": true, "17": true, "132": true, "33": true, "136": true}
var icmpProtocols = map[string]bool{"icmp": true, "icmpv6": true, "ipv6-icmp": true, "1": true, "58": true}

// ipv6Only says whether a protocol (a name or a number) exists only in
// IPv6, as Neutron lists them; "icmp" on IPv6 is ICMPv6, so it fits both.
func ipv6Only(proto string) bool {
	n, _ := dataplane.ProtocolNumber(proto)
	switch n {
	case 41, 43, 44, 58, 59, 60:
		return true
	}
	return false
}

func validateRule(r *RuleRequest) error {
	if r.Direction != "ingress" && r.Direction != "egress" {
		return invalidInput("'%s' is not in ['ingress', 'egress'] for direction.", r.Direction)
	}
	if r.EtherType == "" {
		r.EtherType = "IPv4"
	}
	if r.EtherType != "IPv4" && r.EtherType != "IPv6" {
		return invalidInput("'%s' is not in ['IPv4', 'IPv6'] for ethertype.", r.EtherType)
	}
	proto := ""
	if r.Protocol != nil {
		proto = strings.ToLower(*r.Protocol)
		if proto == "any" {
			proto = ""
		}
	}
	if proto != "" {
		n, known := dataplane.ProtocolNumber(proto)
		if !known {
			return neutronError(http.StatusBadRequest, "SecurityGroupRuleInvalidProtocol",
				"Security group rule protocol %s not supported. Only protocol values [None, ah, dccp, egp, esp, gre, icmp, icmpv6, igmp, ipip, ipv6-icmp, ospf, pgm, rsvp, sctp, tcp, udp, udplite, vrrp] and integer representations [0 to 255] are supported.", *r.Protocol)
		}
		if _, err := strconv.Atoi(proto); err == nil {
			proto = strconv.Itoa(n) // one spelling of a number ("06" is "6")
		}
		r.Protocol = &proto
		if r.EtherType == "IPv4" && ipv6Only(proto) {
			return neutronError(http.StatusBadRequest, "SecurityGroupEthertypeConflictWithProtocol",
				"Invalid ethertype %s for protocol %s.", r.EtherType, proto)
		}
	} else {
		r.Protocol = nil
	}
	if r.PortRangeMin != nil || r.PortRangeMax != nil {
		switch {
		case proto == "":
			return neutronError(http.StatusBadRequest, "SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given.")
		case portProtocols[proto]:
			if r.PortRangeMin == nil || r.PortRangeMax == nil {
				return neutronError(http.StatusBadRequest, "SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min and port_range_max must both be given.")
			}
			if *r.PortRangeMin < 1 || *r.PortRangeMax > 65535 || *r.PortRangeMin > *r.PortRangeMax {
				return neutronError(http.StatusBadRequest, "SecurityGroupInvalidPortRange",
					"For TCP/UDP protocols, port_range_min must be <= port_range_max, both between 1 and 65535.")
			}
		case icmpProtocols[proto]:
			for _, v := range []*int{r.PortRangeMin, r.PortRangeMax} {
				if v != nil && (*v < 0 || *v > 255) {
					return neutronError(http.StatusBadRequest, "SecurityGroupInvalidIcmpValue",
						"Invalid value for ICMP %d: it must be between 0 and 255.", *v)
				}
			}
			if r.PortRangeMin == nil {
				return neutronError(http.StatusBadRequest, "SecurityGroupMissingIcmpType", "ICMP code (port-range-max) %d is provided but ICMP type (port-range-min) is missing.", *r.PortRangeMax)
			}
		default:
			return neutronError(http.StatusBadRequest, "SecurityGroupInvalidProtocolForPort",
				"Invalid protocol %s for port range, only supported for TCP, UDP, UDPLITE, SCTP, DCCP and ICMP protocols.", proto)
		}
	}
	if r.RemoteIPPrefix != nil && r.RemoteGroupID != nil {
		return neutronError(http.StatusBadRequest, "SecurityGroupRemoteGroupAndRemoteIpPrefix",
			"Only remote_ip_prefix or remote_group_id may be provided.")
	}
	if r.RemoteIPPrefix != nil {
		p, err := netip.ParsePrefix(*r.RemoteIPPrefix)
		if err != nil {
			a, aerr := netip.ParseAddr(*r.RemoteIPPrefix)
			if aerr != nil {
				return invalidInput("'%s' is not a valid IP subnet.", *r.RemoteIPPrefix)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Addr().Is4() != (r.EtherType == "IPv4") {
			return neutronError(http.StatusBadRequest, "SecurityGroupRuleParameterConflict",
				"Conflicting value ethertype %s for CIDR %s", r.EtherType, *r.RemoteIPPrefix)
		}
		r.RemoteIPPrefix = ptr(p.Masked().String())
	}
	if len(r.Description) > 255 {
		return invalidInput("description is longer than 255 characters.")
	}
	return nil
}

func insertRule(ctx context.Context, tx pgx.Tx, r *SecurityGroupRule) error {
	if r.ID == "" {
		r.ID = uuid.NewString()
	}
	tag, err := tx.Exec(ctx, `INSERT INTO security_group_rules (id, security_group_id, project_id, direction, ethertype, protocol,
			port_range_min, port_range_max, remote_ip_prefix, remote_group_id, description)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::cidr, $10, $11) ON CONFLICT DO NOTHING`,
		r.ID, r.SecurityGroupID, r.ProjectID, r.Direction, r.EtherType, r.Protocol, r.PortRangeMin, r.PortRangeMax,
		r.RemoteIPPrefix, r.RemoteGroupID, r.Description)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		var existing string
		_ = tx.QueryRow(ctx, `SELECT id FROM security_group_rules WHERE security_group_id = $1 AND direction = $2 AND ethertype = $3
			AND coalesce(protocol, '') = coalesce($4, '') AND coalesce(port_range_min, -1) = coalesce($5, -1)
			AND coalesce(port_range_max, -1) = coalesce($6, -1) AND coalesce(remote_ip_prefix::text, '') = coalesce($7, '')
			AND coalesce(remote_group_id, '') = coalesce($8, '')`,
			r.SecurityGroupID, r.Direction, r.EtherType, r.Protocol, r.PortRangeMin, r.PortRangeMax, r.RemoteIPPrefix, r.RemoteGroupID).Scan(&existing)
		return neutronError(http.StatusConflict, "SecurityGroupRuleExists", "Security group rule already exists. Rule id is %s.", existing)
	}
	return nil
}

// CreateSecurityGroupRule adds a rule to a group c may write.
func (s *Service) CreateSecurityGroupRule(ctx context.Context, c *token.Claims, req RuleRequest) (SecurityGroupRule, error) {
	if req.SecurityGroupID == "" {
		return SecurityGroupRule{}, badRequest("Invalid input for operation: security_group_id is required.")
	}
	g, err := s.GetSecurityGroup(ctx, c, req.SecurityGroupID)
	if err != nil {
		return SecurityGroupRule{}, err
	}
	if err := authorizeIn(c, policy.Write, g.ProjectID, "SecurityGroup", g.ID); err != nil {
		return SecurityGroupRule{}, err
	}
	if err := validateRule(&req); err != nil {
		return SecurityGroupRule{}, err
	}
	if req.RemoteGroupID != nil {
		if _, err := s.GetSecurityGroup(ctx, c, *req.RemoteGroupID); err != nil {
			return SecurityGroupRule{}, err
		}
	}
	r := SecurityGroupRule{SecurityGroupID: g.ID, ProjectID: g.ProjectID, Direction: req.Direction, EtherType: req.EtherType,
		Protocol: req.Protocol, PortRangeMin: req.PortRangeMin, PortRangeMax: req.PortRangeMax, RemoteIPPrefix: req.RemoteIPPrefix,
		RemoteGroupID: req.RemoteGroupID, Description: req.Description}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if err := s.reserve(ctx, tx, g.ProjectID, "security_group_rule"); err != nil {
			return err
		}
		if err := insertRule(ctx, tx, &r); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE security_groups SET revision_number = revision_number + 1, updated_at = now() WHERE id = $1", g.ID)
		return err
	})
	if err != nil {
		return SecurityGroupRule{}, err
	}
	return s.GetSecurityGroupRule(ctx, c, r.ID)
}

// ListSecurityGroupRules returns the rules c may see.
func (s *Service) ListSecurityGroupRules(ctx context.Context, c *token.Claims) ([]SecurityGroupRule, error) {
	if err := policy.Authorize(c, policy.Read, "", "security group rules"); err != nil {
		return nil, err
	}
	if err := s.EnsureDefaultGroup(ctx, c); err != nil {
		return nil, err
	}
	rows, _ := s.pool.Query(ctx, "SELECT "+ruleCols+" FROM security_group_rules r WHERE ($1 = '' OR r.project_id = $1) ORDER BY r.created_at, r.id",
		policy.ProjectFilter(c))
	return pgx.CollectRows(rows, scanRule)
}

// GetSecurityGroupRule returns a rule c may see.
func (s *Service) GetSecurityGroupRule(ctx context.Context, c *token.Claims, id string) (SecurityGroupRule, error) {
	rows, _ := s.pool.Query(ctx, "SELECT "+ruleCols+" FROM security_group_rules r WHERE r.id = $1", id)
	r, err := pgx.CollectExactlyOneRow(rows, scanRule)
	if err == pgx.ErrNoRows {
		return r, notFound("SecurityGroupRule", id)
	}
	if err != nil {
		return r, err
	}
	return r, authorizeIn(c, policy.Read, r.ProjectID, "SecurityGroupRule", id)
}

// DeleteSecurityGroupRule removes a rule.
func (s *Service) DeleteSecurityGroupRule(ctx context.Context, c *token.Claims, id string) error {
	r, err := s.GetSecurityGroupRule(ctx, c, id)
	if err != nil {
		return err
	}
	if err := authorizeIn(c, policy.Write, r.ProjectID, "SecurityGroupRule", id); err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM security_group_rules WHERE id = $1", id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE security_groups SET revision_number = revision_number + 1, updated_at = now() WHERE id = $1", r.SecurityGroupID)
		return err
	})
}

func groupTags(x *SecurityGroup) (string, *[]string) { return x.ID, &x.Tags }
