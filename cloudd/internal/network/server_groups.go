package network

import (
	"context"
	"net/http"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/osapi"
)

// Nova's addSecurityGroup and removeSecurityGroup server actions change the
// groups of every port of a server, as Nova's Neutron driver does, but in
// one transaction: a refused port leaves none changed.

// findGroup resolves a security group name or id in project (its default
// group ensured by the caller); "" when there is none.
func (s *Service) findGroup(ctx context.Context, project, nameOrID string) (string, error) {
	rows, _ := s.pool.Query(ctx, "SELECT id FROM security_groups WHERE project_id = $1 AND (name = $2 OR id = $2)", project, nameOrID)
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	switch {
	case err != nil:
		return "", err
	case len(found) > 1:
		return "", osapi.Errorf(http.StatusConflict, "Multiple security groups found matching '%s'. Use an ID to be more specific.", nameOrID)
	case len(found) == 0:
		return "", nil
	}
	return found[0], nil
}

// AddServerGroup adds a security group of project (by name or id) to every
// port of a server.
func (s *Service) AddServerGroup(ctx context.Context, project, serverID, group string) error {
	return s.changeServerGroups(ctx, project, serverID, group, func(p Port, id string) ([]string, error) {
		if !p.PortSecurityEnabled || len(p.FixedIPs) == 0 {
			return nil, osapi.Errorf(http.StatusBadRequest, "Network requires port_security_enabled and subnet associated in order to apply security groups.")
		}
		if slices.Contains(p.SecurityGroups, id) {
			return p.SecurityGroups, nil
		}
		return append(p.SecurityGroups, id), nil
	})
}

// RemoveServerGroup removes a security group of project from every port of
// a server that has it; a 404 when none has.
func (s *Service) RemoveServerGroup(ctx context.Context, project, serverID, group string) error {
	removed := false
	err := s.changeServerGroups(ctx, project, serverID, group, func(p Port, id string) ([]string, error) {
		if !slices.Contains(p.SecurityGroups, id) {
			return p.SecurityGroups, nil
		}
		removed = true
		return slices.DeleteFunc(slices.Clone(p.SecurityGroups), func(g string) bool { return g == id }), nil
	})
	if err == nil && !removed {
		// changeServerGroups wrote nothing: no port changed.
		return osapi.Errorf(http.StatusNotFound, "Security group %s not associated with the instance %s", group, serverID)
	}
	return err
}

// changeServerGroups sets each port's groups to change(port, group id)
// through the port-update path, which signals the dataplane.
func (s *Service) changeServerGroups(ctx context.Context, project, serverID, group string, change func(Port, string) ([]string, error)) error {
	if _, err := s.ensureDefaultGroup(ctx, project); err != nil {
		return err
	}
	id, err := s.findGroup(ctx, project, group)
	if err != nil {
		return err
	}
	if id == "" {
		return osapi.Errorf(http.StatusNotFound, "Security group %s is not found for project %s", group, project)
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, "SELECT id FROM ports WHERE device_id = $1 AND device_owner LIKE 'compute:%' ORDER BY attach_order FOR UPDATE", serverID)
		portIDs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if len(portIDs) == 0 {
			return osapi.Errorf(http.StatusNotFound, "instance_id %s could not be found as device id on any ports", serverID)
		}
		for _, portID := range portIDs {
			p, err := s.getPort(ctx, tx, portID)
			if err != nil {
				return err
			}
			groups, err := change(p, id)
			if err != nil {
				return err
			}
			if slices.Equal(groups, p.SecurityGroups) {
				continue
			}
			if err := checkRevision(ctx, tx, "ports", p.ID, 0); err != nil {
				return err
			}
			if err := s.updatePort(ctx, tx, p, PortRequest{SecurityGroups: &groups}); err != nil {
				return err
			}
		}
		return nil
	})
	return novaError(err)
}

// ServerGroups returns the security groups of a server's ports and, by id,
// the groups their rules name as remote (Nova's rule view shows their
// names).
func (s *Service) ServerGroups(ctx context.Context, serverID string) ([]SecurityGroup, map[string]SecurityGroup, error) {
	rows, _ := s.pool.Query(ctx, `SELECT g.id FROM security_groups g WHERE g.id IN (SELECT pg.security_group_id
		FROM ports p JOIN port_security_groups pg ON pg.port_id = p.id WHERE p.device_id = $1 AND p.device_owner LIKE 'compute:%')
		ORDER BY g.created_at, g.id`, serverID)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, nil, err
	}
	groups, remotes := []SecurityGroup{}, map[string]SecurityGroup{}
	load := func(id string) ([]SecurityGroup, error) { return s.groups(ctx, s.pool, "", id) }
	for _, id := range ids {
		list, err := load(id)
		if err != nil {
			return nil, nil, err
		}
		groups = append(groups, list...)
	}
	for _, g := range groups {
		remotes[g.ID] = g
	}
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.RemoteGroupID == nil {
				continue
			}
			if _, ok := remotes[*r.RemoteGroupID]; ok {
				continue
			}
			list, err := load(*r.RemoteGroupID)
			if err != nil {
				return nil, nil, err
			}
			for _, rg := range list {
				remotes[rg.ID] = rg
			}
		}
	}
	return groups, remotes, nil
}
