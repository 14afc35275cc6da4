package hypervisor

import "libvirt.org/go/libvirtxml"

// NIC is a guest network interface: a Neutron port plugged into its
// network's bridge on the host through a tap device.
type NIC struct {
	MAC    string
	Bridge string // the network's Linux bridge (dataplane.BridgeName)
	Tap    string // the host side of the interface (dataplane.TapName)
	MTU    int    // 0: the bridge's
}

// interfaces renders NICs as virtio interfaces on their bridges, in order,
// so the guest sees them as eth0, eth1, ...
func interfaces(nics []NIC) []libvirtxml.DomainInterface {
	var out []libvirtxml.DomainInterface
	for _, n := range nics {
		itf := libvirtxml.DomainInterface{
			MAC:    &libvirtxml.DomainInterfaceMAC{Address: n.MAC},
			Source: &libvirtxml.DomainInterfaceSource{Bridge: &libvirtxml.DomainInterfaceSourceBridge{Bridge: n.Bridge}},
			Target: &libvirtxml.DomainInterfaceTarget{Dev: n.Tap},
			Model:  &libvirtxml.DomainInterfaceModel{Type: "virtio"},
		}
		if n.MTU > 0 {
			itf.MTU = &libvirtxml.DomainInterfaceMTU{Size: uint(n.MTU)}
		}
		out = append(out, itf)
	}
	return out
}
