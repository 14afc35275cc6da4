// Package configdrive builds OpenStack config drives: the small ISO 9660
// image, labelled config-2, that a server reads its identity, SSH keys,
// user data and network configuration from at boot. cloud-init's
// ConfigDrive datasource, cloudbase-init and Stratus's own tiny guest
// (guest/ at the top of the repository) all read it.
//
// The layout is Nova's: the same files under openstack/latest and under the
// dated version directory openstack/2018-08-27 (the newest version that
// cloud-init looks for by name):
//
//	openstack/<version>/meta_data.json     uuid, name, hostname, keys, meta, ...
//	openstack/<version>/network_data.json  links, networks, services
//	openstack/<version>/vendor_data.json   {}
//	openstack/<version>/user_data          only when there is user data
//
// The image has Rock Ridge and Joliet names, as Nova's genisoimage -r -J
// images do, so Linux and Windows guests see the names above exactly.
package configdrive

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// Label is the volume label guests look for.
const Label = "config-2"

// Version is the dated metadata version written beside "latest".
const Version = "2018-08-27"

// Drive is what goes on a server's config drive.
type Drive struct {
	UUID             string // server id; required
	Name             string // display name
	Hostname         string // guest hostname; defaults to Name
	ProjectID        string
	AvailabilityZone string
	PublicKeys       map[string]string // key pair name -> OpenSSH public key
	Metadata         map[string]string // server metadata ("meta")
	UserData         []byte            // raw user data (not base64); omitted when empty
	Network          NetworkData
}

// NetworkData is the server's network configuration, written as
// network_data.json. The zero value has no links, networks or services;
// guests then fall back to DHCP on their NICs.
type NetworkData struct {
	Interfaces []Interface
	// DNS servers for the whole server, listed in the top-level services
	// together with every interface's DNS servers.
	DNS []string
}

// Interface is one NIC (a Neutron port) and the addresses on it.
type Interface struct {
	// LinkID names the link in network_data.json. Default: "tap" and the
	// first 11 characters of PortID, as Nova's devname, or "interface<n>".
	LinkID    string
	PortID    string // vif_id
	NetworkID string // network_id of every network on this link
	MAC       string // required; guests find the NIC by it
	MTU       int    // 0: unknown (null)

	// DHCP gives the NIC an ipv4_dhcp network: the guest asks DHCP for its
	// IPv4 address.
	DHCP bool
	// Addresses are static addresses in CIDR form ("10.0.0.5/24",
	// "2001:db8::5/64"), IPv4 or IPv6; each becomes one network.
	Addresses []string
	Gateway   string   // IPv4 default gateway of the static IPv4 networks
	Gateway6  string   // IPv6 default gateway of the static IPv6 networks
	Routes    []Route  // further routes, added to the network of their family
	DNS       []string // DNS servers of this interface's static networks
}

// Route is a static route.
type Route struct {
	Destination string // CIDR, e.g. "192.168.0.0/16"
	Gateway     string
}

// Build returns the config drive image for d.
func Build(d Drive) ([]byte, error) {
	files, err := Files(d)
	if err != nil {
		return nil, err
	}
	return buildISO(Label, files)
}

// Files returns the config drive's files by path, without building the
// image: what Build puts in it.
func Files(d Drive) (map[string][]byte, error) {
	if strings.TrimSpace(d.UUID) == "" {
		return nil, errors.New("configdrive: UUID is required")
	}
	meta, err := metaData(d)
	if err != nil {
		return nil, err
	}
	network, err := networkData(d.Network)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, v := range []string{Version, "latest"} {
		dir := "openstack/" + v + "/"
		files[dir+"meta_data.json"] = meta
		files[dir+"network_data.json"] = network
		files[dir+"vendor_data.json"] = []byte("{}")
		if len(d.UserData) > 0 {
			files[dir+"user_data"] = d.UserData
		}
	}
	return files, nil
}

type metaKey struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Data string `json:"data"`
}

// metaDataJSON is meta_data.json as Nova writes it.
type metaDataJSON struct {
	UUID             string            `json:"uuid"`
	Meta             map[string]string `json:"meta"`
	PublicKeys       map[string]string `json:"public_keys,omitempty"`
	Keys             []metaKey         `json:"keys,omitempty"`
	Hostname         string            `json:"hostname"`
	Name             string            `json:"name"`
	LaunchIndex      int               `json:"launch_index"`
	AvailabilityZone string            `json:"availability_zone"`
	RandomSeed       string            `json:"random_seed"`
	ProjectID        string            `json:"project_id"`
	Devices          []any             `json:"devices"`
}

func metaData(d Drive) ([]byte, error) {
	seed := make([]byte, 512)
	if _, err := rand.Read(seed); err != nil {
		return nil, fmt.Errorf("configdrive: random seed: %w", err)
	}
	m := metaDataJSON{
		UUID:             d.UUID,
		Meta:             map[string]string{},
		Hostname:         d.Hostname,
		Name:             d.Name,
		AvailabilityZone: d.AvailabilityZone,
		RandomSeed:       base64.StdEncoding.EncodeToString(seed),
		ProjectID:        d.ProjectID,
		Devices:          []any{},
	}
	if m.Hostname == "" {
		m.Hostname = d.Name
	}
	for k, v := range d.Metadata {
		m.Meta[k] = v
	}
	if len(d.PublicKeys) > 0 {
		m.PublicKeys = map[string]string{}
		for name, key := range d.PublicKeys {
			key = strings.TrimSpace(key)
			m.PublicKeys[name] = key
			m.Keys = append(m.Keys, metaKey{Name: name, Type: "ssh", Data: key})
		}
		slices.SortFunc(m.Keys, func(a, b metaKey) int { return strings.Compare(a.Name, b.Name) })
	}
	return marshal(m)
}

// marshal encodes v as JSON without Go's HTML escaping of <, > and &, so
// that values read back byte for byte by simple parsers.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("configdrive: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

type linkJSON struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	MAC  string `json:"ethernet_mac_address"`
	MTU  *int   `json:"mtu"`
	// VIFID is the Neutron port.
	VIFID string `json:"vif_id,omitempty"`
}

type routeJSON struct {
	Network string `json:"network"`
	Netmask string `json:"netmask"`
	Gateway string `json:"gateway"`
}

type serviceJSON struct {
	Type    string `json:"type"`
	Address string `json:"address"`
}

type networkJSON struct {
	ID        string        `json:"id"`
	Type      string        `json:"type"`
	Link      string        `json:"link"`
	IPAddress string        `json:"ip_address,omitempty"`
	Netmask   string        `json:"netmask,omitempty"`
	Routes    []routeJSON   `json:"routes,omitempty"`
	NetworkID string        `json:"network_id,omitempty"`
	Services  []serviceJSON `json:"services,omitempty"`
}

type networkDataJSON struct {
	Links    []linkJSON    `json:"links"`
	Networks []networkJSON `json:"networks"`
	Services []serviceJSON `json:"services"`
}

// networkData renders network_data.json the way Nova's
// nova.virt.netutils.get_network_metadata does: one phy link per NIC, one
// network per address (or one ipv4_dhcp network), a default route per
// network with a gateway, and DNS servers as services.
func networkData(n NetworkData) ([]byte, error) {
	out := networkDataJSON{Links: []linkJSON{}, Networks: []networkJSON{}, Services: []serviceJSON{}}
	seenDNS := map[string]bool{}
	addDNS := func(list *[]serviceJSON, addr string) error {
		ip, err := netip.ParseAddr(addr)
		if err != nil {
			return fmt.Errorf("configdrive: DNS server %q: %w", addr, err)
		}
		*list = append(*list, serviceJSON{Type: "dns", Address: ip.String()})
		return nil
	}
	seenLink := map[string]bool{}
	for i, ifc := range n.Interfaces {
		mac, err := net.ParseMAC(ifc.MAC)
		if err != nil || len(mac) != 6 {
			return nil, fmt.Errorf("configdrive: interface %d: bad MAC address %q", i, ifc.MAC)
		}
		link := linkJSON{ID: ifc.LinkID, Type: "phy", MAC: mac.String(), VIFID: ifc.PortID}
		if link.ID == "" {
			if ifc.PortID != "" {
				link.ID = "tap" + ifc.PortID[:min(11, len(ifc.PortID))]
			} else {
				link.ID = fmt.Sprintf("interface%d", i)
			}
		}
		if seenLink[link.ID] {
			return nil, fmt.Errorf("configdrive: interface %d: duplicate link id %q", i, link.ID)
		}
		seenLink[link.ID] = true
		if ifc.MTU > 0 {
			mtu := ifc.MTU
			link.MTU = &mtu
		}
		out.Links = append(out.Links, link)

		var dns []serviceJSON
		for _, a := range ifc.DNS {
			if err := addDNS(&dns, a); err != nil {
				return nil, err
			}
		}
		newNet := func(typ string) networkJSON {
			return networkJSON{ID: fmt.Sprintf("network%d", len(out.Networks)), Type: typ, Link: link.ID, NetworkID: ifc.NetworkID}
		}
		if ifc.DHCP {
			out.Networks = append(out.Networks, newNet("ipv4_dhcp"))
		}
		for _, a := range ifc.Addresses {
			p, err := netip.ParsePrefix(a)
			if err != nil {
				return nil, fmt.Errorf("configdrive: interface %d: address %q is not in CIDR form: %w", i, a, err)
			}
			if p.Addr().Is4In6() {
				return nil, fmt.Errorf("configdrive: interface %d: write IPv4 address %q without the ::ffff: prefix", i, a)
			}
			v6 := p.Addr().Is6()
			nw := newNet("ipv4")
			gw, deflt := ifc.Gateway, "0.0.0.0"
			if v6 {
				nw.Type, gw, deflt = "ipv6", ifc.Gateway6, "::"
			}
			nw.IPAddress = p.Addr().String()
			nw.Netmask = netmask(p)
			if gw != "" {
				g, err := netip.ParseAddr(gw)
				if err != nil || g.Is6() != v6 {
					return nil, fmt.Errorf("configdrive: interface %d: bad gateway %q for %s", i, gw, a)
				}
				nw.Routes = append(nw.Routes, routeJSON{Network: deflt, Netmask: deflt, Gateway: g.String()})
			}
			for _, r := range ifc.Routes {
				dst, err := netip.ParsePrefix(r.Destination)
				if err != nil {
					return nil, fmt.Errorf("configdrive: interface %d: route destination %q: %w", i, r.Destination, err)
				}
				g, err := netip.ParseAddr(r.Gateway)
				if err != nil {
					return nil, fmt.Errorf("configdrive: interface %d: route gateway %q: %w", i, r.Gateway, err)
				}
				if dst.Addr().Is6() != v6 || g.Is6() != v6 {
					continue // belongs to the network of the other family
				}
				nw.Routes = append(nw.Routes, routeJSON{Network: dst.Masked().Addr().String(), Netmask: netmask(dst), Gateway: g.String()})
			}
			nw.Services = dns
			out.Networks = append(out.Networks, nw)
		}
		for _, s := range dns {
			if !seenDNS[s.Address] {
				seenDNS[s.Address] = true
				out.Services = append(out.Services, s)
			}
		}
	}
	for _, a := range n.DNS {
		var s []serviceJSON
		if err := addDNS(&s, a); err != nil {
			return nil, err
		}
		if !seenDNS[s[0].Address] {
			seenDNS[s[0].Address] = true
			out.Services = append(out.Services, s[0])
		}
	}
	return marshal(out)
}

// netmask is p's mask the way Nova writes it: dotted quad for IPv4, the
// mask as an IPv6 address ("ffff:ffff:ffff:ffff::") for IPv6.
func netmask(p netip.Prefix) string {
	mask := net.CIDRMask(p.Bits(), p.Addr().BitLen())
	if p.Addr().Is4() {
		return net.IP(mask).String()
	}
	a, _ := netip.AddrFromSlice(mask)
	return a.String()
}
