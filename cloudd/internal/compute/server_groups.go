package compute

import (
	"context"
	"net/http"

	"github.com/stratus-cloud/stratus/cloudd/internal/network"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// SecurityGroups lists the security groups of a server's ports
// (os-security-groups) and, by id, the groups their rules name as remote.
func (s *Service) SecurityGroups(ctx context.Context, c *token.Claims, serverID string) ([]network.SecurityGroup, map[string]network.SecurityGroup, error) {
	srv, err := s.Get(ctx, c, serverID)
	if err != nil || s.Networking == nil {
		return []network.SecurityGroup{}, nil, err
	}
	return s.Networking.ServerGroups(ctx, srv.ID)
}

// ProjectSecurityGroups lists the security groups c may see, for Nova's
// os-security-groups proxy.
func (s *Service) ProjectSecurityGroups(ctx context.Context, c *token.Claims) ([]network.SecurityGroup, error) {
	if s.Networking == nil {
		return []network.SecurityGroup{}, nil
	}
	return s.Networking.ListSecurityGroups(ctx, c)
}

// AddSecurityGroup adds a group of the server's project (by name or id) to
// each of its ports (addSecurityGroup). Like Nova, it needs no particular
// server state: security groups are the network's business.
func (s *Service) AddSecurityGroup(ctx context.Context, c *token.Claims, serverID, group string) error {
	srv, err := s.networkingTarget(ctx, c, serverID)
	if err != nil {
		return err
	}
	return s.Networking.AddServerGroup(ctx, srv.ProjectID, srv.ID, group)
}

// RemoveSecurityGroup removes a group from each of a server's ports that
// has it (removeSecurityGroup).
func (s *Service) RemoveSecurityGroup(ctx context.Context, c *token.Claims, serverID, group string) error {
	srv, err := s.networkingTarget(ctx, c, serverID)
	if err != nil {
		return err
	}
	return s.Networking.RemoveServerGroup(ctx, srv.ProjectID, srv.ID, group)
}

// networkingTarget is a server c may change the networking of.
func (s *Service) networkingTarget(ctx context.Context, c *token.Claims, serverID string) (Server, error) {
	srv, err := s.Get(ctx, c, serverID)
	if err != nil {
		return srv, err
	}
	if err := policy.Authorize(c, policy.Write, srv.ProjectID, "server"); err != nil {
		return srv, err
	}
	if s.Networking == nil {
		return srv, osapi.Errorf(http.StatusNotImplemented, "This cloud has no network service.")
	}
	return srv, nil
}
