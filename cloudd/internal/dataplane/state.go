// Package dataplane makes one host's Linux networking match what the network
// service decided: a bridge per network, DHCP handing each port exactly its
// IPAM address, security groups enforced per port, routers with SNAT and
// floating IPs as 1:1 NAT.
//
// The network service owns the decisions (PostgreSQL); this package owns
// only their realisation on a host. It is level-triggered: Apply receives
// the whole desired State for the host every time and converges to it, so a
// missed update, a restart or a crash mid-apply is mended by the next Apply.
//
// # Linux
//
// Linux is the Applier for a KVM host. It drives the machine it runs on
// (cloudd runs on the host it drives; remote hosts are not reached), needs
// root, the br_netfilter bridge hooks (built in or loadable; Apply switches
// bridge-nf-call-iptables/ip6tables on) and ip, nft, dnsmasq and sysctl on
// PATH. The network service calls Apply only for real hosts: on libvirt's
// test driver nothing is realised, by that switch, not by a fake here.
//
//   - A bridge brq… per network (BridgeName), with the network's MTU,
//     created before guests start; libvirt enslaves a guest's tap
//     (TapName) to it. The host has no address and no IPv6 on tenant
//     bridges; on external networks it holds the subnets' gateway addresses.
//   - DHCP: dnsmasq per network with DHCP subnets, in namespace qdhcp-<id>,
//     with static host entries only (see dhcp.go).
//   - Security groups: nftables, see firewall.go. nftables rather than
//     libvirt's nwfilter because the whole ruleset is replaced in one atomic
//     transaction per Apply (no window without rules, no rule-by-rule
//     diffing), it is keyed on tap names so it holds the moment
//     libvirt creates the tap, it needs no per-domain filter references in
//     the domain XML, and it is one tool for filtering and NAT; nwfilter
//     rebuilds ebtables/iptables chains per domain and is tied to libvirtd.
//   - Routers: namespace qrouter-<id> per router with NAT, see routers.go.
//
// Apply removes only what this instance recorded creating (owned.json in its
// state directory) and its own nftables tables, never foreign interfaces.
//
// Single host: a network's bridge, DHCP and routers live on the host whose
// State holds them; nothing joins the bridges of two hosts. The external
// network reaches beyond the host only if the operator adds an uplink to its
// bridge. IPv6 addresses are anti-spoofed and filtered but not handed out
// (no router advertisements or DHCPv6), and routers route and NAT IPv4 only.
// DHCP hands out the subnet's DNS servers; it serves no DNS itself.
package dataplane

import (
	"context"
	"net/netip"
)

// State is everything one host must realise. The network service computes it
// from the database: the networks that have ports on the host, those ports,
// the security groups they use (remote groups resolved to addresses), the
// routers attached to those networks and their floating IPs.
type State struct {
	Networks       []Network
	Ports          []Port
	SecurityGroups []SecurityGroup
	Routers        []Router
	FloatingIPs    []FloatingIP
}

// Network is an L2 segment: one bridge on the host.
type Network struct {
	ID       string
	MTU      int
	External bool // router:external; routers' gateways and floating IPs live here
	Subnets  []Subnet
}

// Subnet is an IPv4 or IPv6 range on a network.
type Subnet struct {
	ID             string
	CIDR           netip.Prefix
	Gateway        netip.Addr // invalid when the subnet has no gateway
	DHCP           bool
	DNSNameservers []netip.Addr
	HostRoutes     []Route
	// DHCPServer is the address the network's DHCP server answers from on
	// this subnet (Neutron's network:dhcp port), reserved by IPAM. When
	// invalid, the dataplane takes the highest address of the subnet that no
	// port, router interface or gateway in the State uses.
	DHCPServer netip.Addr
}

// Route is a subnet host route handed out by DHCP.
type Route struct {
	Destination netip.Prefix
	NextHop     netip.Addr
}

// Port is a guest interface on a network, bound to this host.
type Port struct {
	ID             string
	NetworkID      string
	MAC            string // lower-case, colon-separated
	FixedIPs       []netip.Addr
	PortSecurity   bool     // false: no anti-spoofing and no security groups
	SecurityGroups []string // IDs, each present in State.SecurityGroups
	// AllowedAddressPairs are further sources the port may send from
	// (Neutron's allowed_address_pairs, e.g. a VRRP address).
	AllowedAddressPairs []AddressPair
}

// AddressPair is an address or prefix, with the MAC it may come from ("" is
// the port's own).
type AddressPair struct {
	IP  netip.Prefix
	MAC string
}

// SecurityGroup is a set of allow rules; anything not allowed is dropped
// (ingress), and established flows are always allowed back (stateful).
type SecurityGroup struct {
	ID    string
	Rules []Rule
}

// Rule allows one kind of traffic in one direction.
type Rule struct {
	ID        string
	Direction string // "ingress" or "egress"
	EtherType string // "IPv4" or "IPv6"
	Protocol  string // "" (any), "tcp", "udp", "icmp", "icmpv6", or an IP protocol number
	// PortMin and PortMax bound the destination port for tcp/udp; 0 means
	// any. For icmp they are the type and code; -1 means any (0 is a real
	// type and code: echo-reply, net-unreachable).
	PortMin, PortMax int
	// RemotePrefix limits the peer to a prefix; invalid means any peer.
	RemotePrefix netip.Prefix
	// RemoteGroupID, when set, limits the peer to the addresses of that
	// group's member ports, already resolved into RemoteAddrs.
	RemoteGroupID string
	RemoteAddrs   []netip.Addr
}

// Router connects subnets to each other and to an external network.
type Router struct {
	ID string
	// Gateway is the router's address on the external network; invalid when
	// the router has no external gateway.
	Gateway           netip.Addr
	ExternalNetworkID string
	SNAT              bool
	Interfaces        []RouterInterface
}

// RouterInterface is the router's leg on a subnet, holding its gateway IP.
type RouterInterface struct {
	PortID    string
	NetworkID string
	SubnetID  string
	MAC       string
	IP        netip.Prefix // the address and the subnet's prefix length
}

// FloatingIP maps an external address one-to-one onto a port's fixed
// address, through the router that connects the two networks.
type FloatingIP struct {
	ID         string
	RouterID   string
	FloatingIP netip.Addr
	FixedIP    netip.Addr
	PortID     string
}

// Applier converges a host to a desired State.
type Applier interface {
	Apply(ctx context.Context, s State) error
}

// BridgeName is the Linux bridge of a network on every host ("brq" and the
// first 11 characters of the ID, as Neutron's Linux bridge agent names it).
// The domain XML attaches guest interfaces to it.
func BridgeName(networkID string) string { return "brq" + prefix(networkID) }

// TapName is the host side of a port's guest interface.
func TapName(portID string) string { return "tap" + prefix(portID) }

// prefix keeps interface names within Linux's 15 characters.
func prefix(id string) string {
	if len(id) > 11 {
		return id[:11]
	}
	return id
}
