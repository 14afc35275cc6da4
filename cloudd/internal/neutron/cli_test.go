package neutron_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
)

// TestNetworkingWithOpenstackCLI drives networking with the unchanged
// openstack CLI after sourcing admin-openrc.sh: create, show, list, set and
// delete of every resource, --fixed-ip and floating ip set --port.
func TestNetworkingWithOpenstackCLI(t *testing.T) {
	cloud := cloudtest.Start(t)
	cli := cloud.OpenstackCLI(t)
	var obj map[string]any
	var list []map[string]any

	cli.JSON(&obj, "network", "create", "--external", "public")
	if obj["router:external"] != true {
		t.Fatalf("network create --external: %v", obj)
	}
	cli.OK("subnet", "create", "--network", "public", "--subnet-range", "203.0.113.0/24", "public-subnet")
	cli.JSON(&obj, "network", "create", "--mtu", "1450", "private")
	if obj["mtu"] != float64(1450) || obj["status"] != "ACTIVE" {
		t.Fatalf("network create: %v", obj)
	}
	cli.JSON(&obj, "subnet", "create", "--network", "private", "--subnet-range", "10.60.0.0/24",
		"--allocation-pool", "start=10.60.0.10,end=10.60.0.99", "--dns-nameserver", "192.0.2.53", "--gateway", "10.60.0.1", "private-subnet")
	if obj["gateway_ip"] != "10.60.0.1" || obj["cidr"] != "10.60.0.0/24" {
		t.Fatalf("subnet create: %v", obj)
	}
	if errOut := cli.Fails("subnet", "create", "--network", "private", "--subnet-range", "10.61.0.0/24",
		"--allocation-pool", "start=10.62.0.10,end=10.62.0.20", "bad-subnet"); !strings.Contains(errOut, "BadRequest") && !strings.Contains(errOut, "400") {
		t.Errorf("pool outside the CIDR: %s", errOut)
	}
	cli.OK("network", "set", "--name", "private-net", "--description", "mine", "private")
	cli.OK("subnet", "set", "--name", "private-sub", "private-subnet")
	cli.JSON(&obj, "network", "show", "private-net")
	if obj["description"] != "mine" {
		t.Fatalf("network show after set: %v", obj)
	}

	// Ports with a fixed address, listing and filtering.
	cli.JSON(&obj, "port", "create", "--network", "private-net", "--fixed-ip", "subnet=private-sub,ip-address=10.60.0.42", "vm-port")
	if !strings.Contains(strings.ReplaceAll(toJSON(t, obj["fixed_ips"]), " ", ""), "10.60.0.42") {
		t.Fatalf("port create --fixed-ip: %v", obj)
	}
	if errOut := cli.Fails("port", "create", "--network", "private-net", "--fixed-ip", "ip-address=10.60.0.42", "clash"); !strings.Contains(errOut, "409") {
		t.Errorf("address in use: %s", errOut)
	}
	cli.OK("port", "set", "--name", "vm-port-1", "vm-port")
	cli.JSON(&list, "port", "list", "--network", "private-net")
	if len(list) != 1 || list[0]["Name"] != "vm-port-1" {
		t.Fatalf("port list: %v", list)
	}

	// Security groups and rules.
	cli.OK("security", "group", "create", "--description", "web servers", "web")
	cli.JSON(&obj, "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80:443", "--remote-ip", "0.0.0.0/0", "web")
	if obj["port_range_min"] != float64(80) || obj["port_range_max"] != float64(443) {
		t.Fatalf("rule create: %v", obj)
	}
	if errOut := cli.Fails("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80:443", "--remote-ip", "0.0.0.0/0", "web"); !strings.Contains(errOut, "409") && !strings.Contains(errOut, "exists") {
		t.Errorf("duplicate rule: %s", errOut)
	}
	cli.OK("security", "group", "set", "--description", "http and https", "web")
	cli.JSON(&list, "security", "group", "rule", "list", "web")
	if len(list) != 3 {
		t.Fatalf("rules of web: %v", list)
	}
	cli.OK("port", "set", "--security-group", "web", "vm-port-1")
	cli.JSON(&obj, "security", "group", "show", "web")

	// Router with a gateway and an interface; a floating IP on the port.
	cli.OK("router", "create", "r1")
	cli.OK("router", "set", "--external-gateway", "public", "r1")
	cli.OK("router", "add", "subnet", "r1", "private-sub")
	cli.JSON(&obj, "router", "show", "r1")
	if !strings.Contains(toJSON(t, obj["external_gateway_info"]), "public") && obj["external_gateway_info"] == nil {
		t.Fatalf("router show: %v", obj)
	}
	cli.JSON(&obj, "floating", "ip", "create", "public")
	fip, _ := obj["floating_ip_address"].(string)
	if !strings.HasPrefix(fip, "203.0.113.") {
		t.Fatalf("floating ip create: %v", obj)
	}
	cli.OK("floating", "ip", "set", "--port", "vm-port-1", fip)
	cli.JSON(&obj, "floating", "ip", "show", fip)
	if obj["fixed_ip_address"] != "10.60.0.42" || obj["status"] != "ACTIVE" {
		t.Fatalf("floating ip after set --port: %v", obj)
	}
	cli.JSON(&list, "floating", "ip", "list")
	if len(list) != 1 {
		t.Fatalf("floating ip list: %v", list)
	}
	cli.OK("floating", "ip", "unset", "--port", fip)
	cli.OK("floating", "ip", "delete", fip)

	// A server on the network boots with an address from IPAM.
	disk := filepath.Join(t.TempDir(), "tiny.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-f", "qcow2", disk, "64M").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img: %v: %s", err, out)
	}
	cli.OK("image", "create", "--file", disk, "--disk-format", "qcow2", "--container-format", "bare", "cli-image")
	cli.JSON(&obj, "server", "create", "--flavor", "s1.nano", "--image", "cli-image", "--nic", "net-id=private-net,v4-fixed-ip=10.60.0.77", "--wait", "vm1")
	if !strings.Contains(toJSON(t, obj["addresses"]), "10.60.0.77") {
		t.Fatalf("server create --nic: addresses %v", obj["addresses"])
	}
	// Its security groups change in place.
	cli.OK("server", "add", "security", "group", "vm1", "web")
	cli.JSON(&obj, "server", "show", "vm1")
	if g := toJSON(t, obj["security_groups"]); !strings.Contains(g, "web") || !strings.Contains(g, "default") {
		t.Fatalf("server add security group: %s", g)
	}
	cli.OK("server", "remove", "security", "group", "vm1", "default")
	cli.JSON(&obj, "server", "show", "vm1")
	if g := toJSON(t, obj["security_groups"]); !strings.Contains(g, "web") || strings.Contains(g, "default") {
		t.Fatalf("server remove security group: %s", g)
	}
	if errOut := cli.Fails("server", "remove", "security", "group", "vm1", "default"); !strings.Contains(errOut, "404") {
		t.Errorf("removing a group the server is not in: %s", errOut)
	}
	cli.OK("server", "delete", "--wait", "vm1")

	// In-use deletes are refused; then everything goes in order.
	if errOut := cli.Fails("network", "delete", "private-net"); !strings.Contains(errOut, "409") && !strings.Contains(errOut, "in use") {
		t.Errorf("deleting a network in use: %s", errOut)
	}
	cli.OK("router", "remove", "subnet", "r1", "private-sub")
	cli.OK("router", "unset", "--external-gateway", "r1")
	cli.OK("router", "delete", "r1")
	cli.OK("port", "delete", "vm-port-1")
	cli.OK("security", "group", "delete", "web")
	cli.OK("subnet", "delete", "private-sub")
	cli.OK("network", "delete", "private-net")
	cli.JSON(&list, "network", "list")
	if len(list) != 1 || list[0]["Name"] != "public" {
		t.Fatalf("network list at the end: %v", list)
	}
}
