package neutron_test

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// createPorts creates n ports on network in parallel and returns the
// addresses handed out and the errors.
func createPorts(nc *gophercloud.ServiceClient, network string, n, workers int) (addrs []string, errs []error) {
	var mu sync.Mutex
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				p, err := ports.Create(ctx, nc, ports.CreateOpts{NetworkID: network}).Extract()
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					for _, ip := range p.FixedIPs {
						addrs = append(addrs, ip.IPAddress)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return addrs, errs
}

func duplicates(addrs []string) int {
	seen := map[string]bool{}
	dup := 0
	for _, a := range addrs {
		if seen[a] {
			dup++
		}
		seen[a] = true
	}
	return dup
}

// TestIPAMConcurrent races 64 port creates for a pool of 61 addresses:
// exactly 61 succeed with distinct addresses, the rest are 409
// IpAddressGenerationFailure; released addresses come back.
func TestIPAMConcurrent(t *testing.T) {
	_, admin := startCloud(t)
	n, s := newNet(t, admin, "race", "10.9.0.0/26")
	pool := 61 // .2 to .62
	addrs, errs := createPorts(admin, n.ID, 64, 64)
	if len(addrs) != pool || len(errs) != 64-pool {
		t.Fatalf("%d ports, %d errors (%v); want %d and %d", len(addrs), len(errs), errs, pool, 64-pool)
	}
	if d := duplicates(addrs); d != 0 {
		t.Fatalf("%d duplicate addresses handed out", d)
	}
	for _, err := range errs {
		wantError(t, err, http.StatusConflict, "IpAddressGenerationFailure")
	}
	// Releasing one address makes exactly that one available again.
	page, err := ports.List(admin, ports.ListOpts{NetworkID: n.ID, FixedIPs: []ports.FixedIPOpts{{IPAddress: "10.9.0.30"}}}).AllPages(ctx)
	must(t, err)
	list, _ := ports.ExtractPorts(page)
	if len(list) != 1 {
		t.Fatalf("port with 10.9.0.30: %v", list)
	}
	must(t, ports.Delete(ctx, admin, list[0].ID).ExtractErr())
	p, err := ports.Create(ctx, admin, ports.CreateOpts{NetworkID: n.ID}).Extract()
	must(t, err)
	if p.FixedIPs[0].IPAddress != "10.9.0.30" || p.FixedIPs[0].SubnetID != s.ID {
		t.Fatalf("released address not reused: %+v", p.FixedIPs)
	}
}

func TestBadInput(t *testing.T) {
	_, admin := startCloud(t)
	n, s := newNet(t, admin, "bad", "10.3.0.0/24")
	subnet := func(extra map[string]any) map[string]any {
		body := map[string]any{"network_id": n.ID, "ip_version": 4, "cidr": "10.4.0.0/24"}
		for k, v := range extra {
			body[k] = v
		}
		return map[string]any{"subnet": body}
	}
	rule := func(extra map[string]any) map[string]any {
		body := map[string]any{"direction": "ingress", "security_group_id": defaultGroup(t, admin)}
		for k, v := range extra {
			body[k] = v
		}
		return map[string]any{"security_group_rule": body}
	}
	for _, c := range []struct {
		name, path string
		body       map[string]any
		status     int
		typ        string
	}{
		{"invalid cidr", "subnets", subnet(map[string]any{"cidr": "10.4.0.300/24"}), 400, "InvalidInput"},
		{"cidr with host bits", "subnets", subnet(map[string]any{"cidr": "10.4.0.1/24"}), 400, "InvalidInput"},
		{"cidr of the wrong version", "subnets", subnet(map[string]any{"ip_version": 6}), 400, "InvalidInput"},
		{"overlapping subnet", "subnets", subnet(map[string]any{"cidr": "10.3.0.128/25"}), 400, "InvalidInput"},
		{"gateway outside cidr", "subnets", subnet(map[string]any{"gateway_ip": "10.5.0.1"}), 400, "InvalidInput"},
		{"pool outside cidr", "subnets", subnet(map[string]any{"allocation_pools": []map[string]string{{"start": "10.4.0.10", "end": "10.4.1.10"}}}), 400, "OutOfBoundsAllocationPool"},
		{"overlapping pools", "subnets", subnet(map[string]any{"allocation_pools": []map[string]string{
			{"start": "10.4.0.10", "end": "10.4.0.20"}, {"start": "10.4.0.15", "end": "10.4.0.30"}}}), 400, "OverlappingAllocationPools"},
		{"pool backwards", "subnets", subnet(map[string]any{"allocation_pools": []map[string]string{{"start": "10.4.0.20", "end": "10.4.0.10"}}}), 400, "InvalidInput"},
		{"gateway in pool", "subnets", subnet(map[string]any{"gateway_ip": "10.4.0.15", "allocation_pools": []map[string]string{{"start": "10.4.0.10", "end": "10.4.0.20"}}}), 409, "GatewayConflictWithAllocationPools"},
		{"bad nameserver", "subnets", subnet(map[string]any{"dns_nameservers": []string{"dns.example"}}), 400, "InvalidInput"},
		{"subnet of unknown network", "subnets", map[string]any{"subnet": map[string]any{"network_id": "nope", "cidr": "10.6.0.0/24", "ip_version": 4}}, 404, "NetworkNotFound"},
		{"mtu too small", "networks", map[string]any{"network": map[string]any{"mtu": 10}}, 400, "InvalidInput"},
		{"fixed ip outside subnets", "ports", map[string]any{"port": map[string]any{"network_id": n.ID, "fixed_ips": []map[string]string{{"ip_address": "192.0.2.1"}}}}, 400, "InvalidInput"},
		{"fixed ip on unknown subnet", "ports", map[string]any{"port": map[string]any{"network_id": n.ID, "fixed_ips": []map[string]string{{"subnet_id": "nope"}}}}, 400, "InvalidInput"},
		{"bad mac", "ports", map[string]any{"port": map[string]any{"network_id": n.ID, "mac_address": "zz:16:3e:00:00:01"}}, 400, "InvalidInput"},
		{"network address as fixed ip", "ports", map[string]any{"port": map[string]any{"network_id": n.ID, "fixed_ips": []map[string]string{{"subnet_id": s.ID, "ip_address": "10.3.0.0"}}}}, 400, "InvalidIpForSubnet"},
		{"unknown protocol", "security-group-rules", rule(map[string]any{"protocol": "carrier-pigeon"}), 400, "SecurityGroupRuleInvalidProtocol"},
		{"protocol number too big", "security-group-rules", rule(map[string]any{"protocol": "256"}), 400, "SecurityGroupRuleInvalidProtocol"},
		{"port range backwards", "security-group-rules", rule(map[string]any{"protocol": "tcp", "port_range_min": 90, "port_range_max": 80}), 400, "SecurityGroupInvalidPortRange"},
		{"port out of range", "security-group-rules", rule(map[string]any{"protocol": "udp", "port_range_min": 1, "port_range_max": 70000}), 400, "SecurityGroupInvalidPortRange"},
		{"ports without protocol", "security-group-rules", rule(map[string]any{"port_range_min": 22, "port_range_max": 22}), 400, "SecurityGroupProtocolRequiredWithPorts"},
		{"ports on gre", "security-group-rules", rule(map[string]any{"protocol": "gre", "port_range_min": 22, "port_range_max": 22}), 400, "SecurityGroupInvalidProtocolForPort"},
		{"bad direction", "security-group-rules", rule(map[string]any{"direction": "sideways"}), 400, "InvalidInput"},
		{"prefix of the wrong family", "security-group-rules", rule(map[string]any{"ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/8"}), 400, "SecurityGroupRuleParameterConflict"},
		{"prefix and group", "security-group-rules", rule(map[string]any{"remote_ip_prefix": "10.0.0.0/8", "remote_group_id": defaultGroup(t, admin)}), 400, "SecurityGroupRemoteGroupAndRemoteIpPrefix"},
		{"floating ip on an internal network", "floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": n.ID}}, 400, "BadRequest"},
		{"not json", "networks", nil, 400, ""},
		{"unsupported attribute", "ports", map[string]any{"port": map[string]any{"network_id": n.ID, "allowed_address_pairs": []map[string]string{{"ip_address": "10.3.0.200"}}}}, 400, "HTTPBadRequest"},
		{"unsupported vnic type", "ports", map[string]any{"port": map[string]any{"network_id": n.ID, "binding:vnic_type": "direct"}}, 400, "HTTPBadRequest"},
		{"stateless group", "security-groups", map[string]any{"security_group": map[string]any{"name": "x", "stateful": false}}, 400, "HTTPBadRequest"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var body any = c.body
			if c.body == nil {
				body = "not an object"
			}
			status, data := raw(t, admin, "POST", c.path, body, nil)
			err := gophercloud.ErrUnexpectedResponseCode{Actual: status, Body: data}
			wantError(t, err, c.status, c.typ)
		})
	}
	// Nothing was created by the refused requests.
	page, err := subnets.List(admin, subnets.ListOpts{NetworkID: n.ID}).AllPages(ctx)
	must(t, err)
	if list, _ := subnets.ExtractSubnets(page); len(list) != 1 {
		t.Fatalf("%d subnets after refused creates", len(list))
	}
	// Quota: a project over its port quota gets 409 OverQuota.
	project := adminProject(t, admin)
	_, err = quotas.Update(ctx, admin, project, quotas.UpdateOpts{Port: gophercloud.IntToPointer(1)}).Extract()
	must(t, err)
	_, err = ports.Create(ctx, admin, ports.CreateOpts{NetworkID: n.ID}).Extract()
	must(t, err)
	_, err = ports.Create(ctx, admin, ports.CreateOpts{NetworkID: n.ID}).Extract()
	wantError(t, err, http.StatusConflict, "OverQuota")
	// An If-Match on a stale revision is 412.
	_, err = networks.Update(ctx, admin, n.ID, networks.UpdateOpts{Name: ptr("x"), RevisionNumber: gophercloud.IntToPointer(99)}).Extract()
	wantError(t, err, http.StatusPreconditionFailed, "RevisionNumberConstraintFailed")
	got, err := networks.Update(ctx, admin, n.ID, networks.UpdateOpts{Name: ptr("renamed"), RevisionNumber: gophercloud.IntToPointer(n.RevisionNumber)}).Extract()
	must(t, err)
	if got.Name != "renamed" || got.RevisionNumber != n.RevisionNumber+1 {
		t.Fatalf("update with matching revision: %+v", got)
	}
}

func adminProject(t testing.TB, nc *gophercloud.ServiceClient) string {
	t.Helper()
	n, err := networks.Create(ctx, nc, networks.CreateOpts{Name: "probe"}).Extract()
	must(t, err)
	must(t, networks.Delete(ctx, nc, n.ID).ExtractErr())
	return n.ProjectID
}
