package networking_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
)

var ctx = acctest.Ctx

func value(res, attr string, v knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(res, tfjsonpath.New(attr), v)
}

func TestAccNetworkingNetwork(t *testing.T) {
	cloud := acctest.Start(t)
	nc := cloud.Network(t)
	name := acctest.RandomName("tf-acc-net")
	res := "stratus_networking_network.test"
	config := func(name, desc string, up bool) string {
		return fmt.Sprintf(`
resource "stratus_networking_network" "test" {
  name           = %q
  description    = %q
  admin_state_up = %t
}
`, name, desc, up)
	}
	cloud.Test(t, acctest.Lifecycle{
		Resource: res,
		Create:   config(name, "first", true),
		Update:   config(name+"-2", "second", false),
		CreateChecks: []statecheck.StateCheck{
			value(res, "external", knownvalue.Bool(false)),
			value(res, "shared", knownvalue.Bool(false)),
			value(res, "mtu", knownvalue.NotNull()),
			value(res, "tenant_id", knownvalue.NotNull()),
		},
		UpdateChecks: []statecheck.StateCheck{
			value(res, "name", knownvalue.StringExact(name+"-2")),
			value(res, "admin_state_up", knownvalue.Bool(false)),
		},
		Get: func(id string) error {
			n, err := networks.Get(ctx, nc, id).Extract()
			if err == nil && n.Name != name && n.Name != name+"-2" {
				return fmt.Errorf("network %s is named %q", id, n.Name)
			}
			return err
		},
		Delete: func(id string) error { return networks.Delete(ctx, nc, id).ExtractErr() },
	})
}

func TestAccNetworkingSubnet(t *testing.T) {
	cloud := acctest.Start(t)
	nc := cloud.Network(t)
	res := "stratus_networking_subnet.test"
	config := func(name, pool string, dhcp bool) string {
		return fmt.Sprintf(`
resource "stratus_networking_network" "test" {
  name = "tf-acc-subnet"
}

resource "stratus_networking_subnet" "test" {
  name            = %q
  network_id      = stratus_networking_network.test.id
  cidr            = "10.1.0.0/24"
  enable_dhcp     = %t
  dns_nameservers = ["192.0.2.53"]
  %s
}
`, name, dhcp, pool)
	}
	cloud.Test(t, acctest.Lifecycle{
		Resource: res,
		Create:   config("first", "", true),
		Update: config("second", `no_gateway = true
  allocation_pool {
    start = "10.1.0.100"
    end   = "10.1.0.200"
  }`, false),
		CreateChecks: []statecheck.StateCheck{
			value(res, "gateway_ip", knownvalue.StringExact("10.1.0.1")),
			value(res, "ip_version", knownvalue.Int64Exact(4)),
			value(res, "allocation_pool", knownvalue.ListSizeExact(0)),
		},
		UpdateChecks: []statecheck.StateCheck{
			value(res, "enable_dhcp", knownvalue.Bool(false)),
			value(res, "gateway_ip", knownvalue.StringExact("")),
			value(res, "allocation_pool", knownvalue.ListExact([]knownvalue.Check{knownvalue.ObjectExact(map[string]knownvalue.Check{
				"start": knownvalue.StringExact("10.1.0.100"), "end": knownvalue.StringExact("10.1.0.200"),
			})})),
		},
		Get: func(id string) error {
			s, err := subnets.Get(ctx, nc, id).Extract()
			if err == nil && (len(s.DNSNameservers) != 1 || s.DNSNameservers[0] != "192.0.2.53") {
				return fmt.Errorf("subnet %s has DNS servers %v", id, s.DNSNameservers)
			}
			return err
		},
		Delete: func(id string) error { return subnets.Delete(ctx, nc, id).ExtractErr() },
	})
}

// lan is a network with one subnet, 10.<n>.0.0/24.
func lan(n int) string {
	return fmt.Sprintf(`
resource "stratus_networking_network" "lan" {
  name = "tf-acc-lan"
}

resource "stratus_networking_subnet" "lan" {
  network_id = stratus_networking_network.lan.id
  cidr       = "10.%d.0.0/24"
}
`, n)
}

func TestAccNetworkingPort(t *testing.T) {
	cloud := acctest.Start(t)
	nc := cloud.Network(t)
	res := "stratus_networking_port.test"
	config := func(name, ip string, up, noSecurityGroups bool) string {
		return lan(2) + fmt.Sprintf(`
resource "stratus_networking_port" "test" {
  name               = %q
  network_id         = stratus_networking_network.lan.id
  admin_state_up     = %t
  no_security_groups = %t

  fixed_ip {
    subnet_id  = stratus_networking_subnet.lan.id
    ip_address = %q
  }
}
`, name, up, noSecurityGroups, ip)
	}
	cloud.Test(t, acctest.Lifecycle{
		Resource: res,
		Create:   config("first", "10.2.0.10", true, false),
		Update:   config("second", "10.2.0.11", false, true),
		CreateChecks: []statecheck.StateCheck{
			value(res, "all_fixed_ips", knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("10.2.0.10")})),
			value(res, "mac_address", knownvalue.NotNull()),
			value(res, "all_security_group_ids", knownvalue.SetSizeExact(1)),
		},
		UpdateChecks: []statecheck.StateCheck{
			value(res, "all_fixed_ips", knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("10.2.0.11")})),
			value(res, "all_security_group_ids", knownvalue.SetSizeExact(0)),
		},
		Get:    func(id string) error { _, err := ports.Get(ctx, nc, id).Extract(); return err },
		Delete: func(id string) error { return ports.Delete(ctx, nc, id).ExtractErr() },
	})
}

func TestAccNetworkingSecgroup(t *testing.T) {
	cloud := acctest.Start(t)
	nc := cloud.Network(t)
	res := "stratus_networking_secgroup.test"
	config := func(name, desc string, deleteDefaults bool) string {
		return fmt.Sprintf(`
resource "stratus_networking_secgroup" "test" {
  name                 = %q
  description          = %q
  delete_default_rules = %t
}
`, name, desc, deleteDefaults)
	}
	cloud.Test(t, acctest.Lifecycle{
		Resource: res,
		Create:   config("tf-acc-sg", "first", true),
		// delete_default_rules is only used on create: changing it is
		// recorded in place, and the rules stay deleted.
		Update:       config("tf-acc-sg-2", "second", false),
		ImportIgnore: []string{"delete_default_rules"},
		Get: func(id string) error {
			g, err := groups.Get(ctx, nc, id).Extract()
			if err == nil && len(g.Rules) != 0 {
				return fmt.Errorf("security group %s still has %d default rules", id, len(g.Rules))
			}
			return err
		},
		Delete: func(id string) error { return groups.Delete(ctx, nc, id).ExtractErr() },
	})
}

func TestAccNetworkingSecgroupRule(t *testing.T) {
	cloud := acctest.Start(t)
	nc := cloud.Network(t)
	res := "stratus_networking_secgroup_rule.test"
	config := func(port int) string {
		return fmt.Sprintf(`
resource "stratus_networking_secgroup" "test" {
  name = "tf-acc-rules"
}

resource "stratus_networking_secgroup_rule" "test" {
  security_group_id = stratus_networking_secgroup.test.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = %[1]d
  port_range_max    = %[1]d
  remote_ip_prefix  = "192.0.2.0/24"
}
`, port)
	}
	cloud.Test(t, acctest.Lifecycle{
		Resource: res,
		Create:   config(22),
		Update:   config(443),
		Replace:  true,
		CreateChecks: []statecheck.StateCheck{
			value(res, "port_range_min", knownvalue.Int64Exact(22)),
			value(res, "remote_group_id", knownvalue.StringExact("")),
		},
		Get: func(id string) error {
			r, err := rules.Get(ctx, nc, id).Extract()
			if err == nil && (r.Protocol != "tcp" || r.RemoteIPPrefix != "192.0.2.0/24") {
				return fmt.Errorf("rule %s: %+v", id, r)
			}
			return err
		},
		Delete: func(id string) error { return rules.Delete(ctx, nc, id).ExtractErr() },
	})
}

// external is an external network "tf-acc-public" with a subnet.
const external = `
resource "stratus_networking_network" "public" {
  name     = "tf-acc-public"
  external = true
}

resource "stratus_networking_subnet" "public" {
  network_id = stratus_networking_network.public.id
  cidr       = "198.51.100.0/24"
}
`

func TestAccNetworkingRouter(t *testing.T) {
	cloud := acctest.Start(t)
	nc := cloud.Network(t)
	res := "stratus_networking_router.test"
	cloud.Test(t, acctest.Lifecycle{
		Resource: res,
		Create: external + `
resource "stratus_networking_router" "test" {
  name = "tf-acc-router"
}
`,
		Update: external + `
resource "stratus_networking_router" "test" {
  external_network_id = stratus_networking_network.public.id
  depends_on          = [stratus_networking_subnet.public]
}
`,
		CreateChecks: []statecheck.StateCheck{value(res, "external_network_id", knownvalue.StringExact(""))},
		UpdateChecks: []statecheck.StateCheck{
			value(res, "enable_snat", knownvalue.Bool(true)),
			value(res, "name", knownvalue.StringExact("")),
		},
		Get:    func(id string) error { _, err := routers.Get(ctx, nc, id).Extract(); return err },
		Delete: func(id string) error { return routers.Delete(ctx, nc, id).ExtractErr() },
	})
}

func TestAccNetworkingRouterInterface(t *testing.T) {
	cloud := acctest.Start(t)
	nc := cloud.Network(t)
	res := "stratus_networking_router_interface.test"
	config := func(subnet string) string {
		return lan(3) + fmt.Sprintf(`
resource "stratus_networking_subnet" "lan2" {
  network_id = stratus_networking_network.lan.id
  cidr       = "10.4.0.0/24"
}

resource "stratus_networking_router" "test" {
  name = "tf-acc-router"
}

resource "stratus_networking_router_interface" "test" {
  router_id = stratus_networking_router.test.id
  subnet_id = stratus_networking_subnet.%s.id
}
`, subnet)
	}
	cloud.Test(t, acctest.Lifecycle{
		Resource: res,
		Create:   config("lan"),
		Update:   config("lan2"),
		Replace:  true,
		Get: func(id string) error {
			p, err := ports.Get(ctx, nc, id).Extract()
			if err == nil && p.DeviceOwner != "network:router_interface" {
				return fmt.Errorf("port %s is owned by %q", id, p.DeviceOwner)
			}
			return err
		},
		Delete: func(id string) error {
			p, err := ports.Get(ctx, nc, id).Extract()
			if err != nil {
				return err
			}
			_, err = routers.RemoveInterface(ctx, nc, p.DeviceID, routers.RemoveInterfaceOpts{PortID: id}).Extract()
			return err
		},
	})
}

func TestAccNetworkingFloatingIP(t *testing.T) {
	cloud := acctest.Start(t)
	nc := cloud.Network(t)
	res := "stratus_networking_floatingip.test"
	config := func(desc string) string {
		return external + fmt.Sprintf(`
resource "stratus_networking_floatingip" "test" {
  pool        = stratus_networking_network.public.name
  description = %q
  depends_on  = [stratus_networking_subnet.public]
}
`, desc)
	}
	cloud.Test(t, acctest.Lifecycle{
		Resource:     res,
		Create:       config("first"),
		Update:       config("second"),
		CreateChecks: []statecheck.StateCheck{value(res, "address", knownvalue.NotNull()), value(res, "port_id", knownvalue.StringExact(""))},
		UpdateChecks: []statecheck.StateCheck{value(res, "description", knownvalue.StringExact("second"))},
		Get:          func(id string) error { _, err := floatingips.Get(ctx, nc, id).Extract(); return err },
		Delete:       func(id string) error { return floatingips.Delete(ctx, nc, id).ExtractErr() },
	})
}

func TestAccNetworkingFloatingIPAssociate(t *testing.T) {
	cloud := acctest.Start(t)
	nc := cloud.Network(t)
	res := "stratus_networking_floatingip_associate.test"
	config := func(port string) string {
		return external + lan(5) + fmt.Sprintf(`
resource "stratus_networking_router" "edge" {
  name                = "tf-acc-edge"
  external_network_id = stratus_networking_network.public.id
  depends_on          = [stratus_networking_subnet.public]
}

resource "stratus_networking_router_interface" "lan" {
  router_id = stratus_networking_router.edge.id
  subnet_id = stratus_networking_subnet.lan.id
}

resource "stratus_networking_port" "a" {
  network_id = stratus_networking_network.lan.id
  depends_on = [stratus_networking_subnet.lan]
}

resource "stratus_networking_port" "b" {
  network_id = stratus_networking_network.lan.id
  depends_on = [stratus_networking_subnet.lan]
}

resource "stratus_networking_floatingip" "test" {
  pool       = stratus_networking_network.public.name
  depends_on = [stratus_networking_subnet.public]
}

resource "stratus_networking_floatingip_associate" "test" {
  floating_ip = stratus_networking_floatingip.test.address
  port_id     = stratus_networking_port.%s.id
  depends_on  = [stratus_networking_router_interface.lan]
}
`, port)
	}
	cloud.Test(t, acctest.Lifecycle{
		Resource:     res,
		Create:       config("a"),
		Update:       config("b"),
		CreateChecks: []statecheck.StateCheck{value(res, "fixed_ip", knownvalue.NotNull())},
		Get: func(id string) error {
			fip, err := floatingips.Get(ctx, nc, id).Extract()
			if err == nil && fip.PortID == "" {
				return gophercloud.ErrUnexpectedResponseCode{Actual: 404}
			}
			return err
		},
		Delete: func(id string) error {
			_, err := floatingips.Update(ctx, nc, id, floatingips.UpdateOpts{PortID: new(string)}).Extract()
			return err
		},
	})
}

func TestAccNetworkingDataSources(t *testing.T) {
	cloud := acctest.Start(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cloud.Config(external + lan(6) + `
data "stratus_networking_network" "public" {
  name       = "tf-acc-public"
  external   = true
  depends_on = [stratus_networking_subnet.public]
}

data "stratus_networking_subnet" "lan" {
  network_id = stratus_networking_network.lan.id
  ip_version = 4
  depends_on = [stratus_networking_subnet.lan]
}
`),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.CompareValuePairs("data.stratus_networking_network.public", tfjsonpath.New("id"),
					"stratus_networking_network.public", tfjsonpath.New("id"), compare.ValuesSame()),
				statecheck.CompareValuePairs("data.stratus_networking_subnet.lan", tfjsonpath.New("id"),
					"stratus_networking_subnet.lan", tfjsonpath.New("id"), compare.ValuesSame()),
				value("data.stratus_networking_subnet.lan", "cidr", knownvalue.StringExact("10.6.0.0/24")),
				value("data.stratus_networking_network.public", "subnets", knownvalue.ListSizeExact(1)),
			},
		}},
	})
}

// TestAccNetworkingValidation: values Neutron would store otherwise than
// given, so that the state never matched, are refused at plan time.
func TestAccNetworkingValidation(t *testing.T) {
	cloud := acctest.Start(t)
	step := func(config, want string) resource.TestStep {
		return resource.TestStep{Config: cloud.Config(config), PlanOnly: true, ExpectError: regexp.MustCompile(want)}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			step(`
resource "stratus_networking_subnet" "test" {
  network_id = "n"
  cidr       = "10.0.0.1/24"
}
`, `host bits set`),
			step(`
resource "stratus_networking_secgroup_rule" "test" {
  security_group_id = "g"
  direction         = "ingress"
  ethertype         = "IPv4"
  remote_ip_prefix  = "192.0.2.7/24"
}
`, `host bits set`),
			step(`
resource "stratus_networking_secgroup_rule" "test" {
  security_group_id = "g"
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "any"
}
`, `must be a protocol name`),
		},
	})
}
