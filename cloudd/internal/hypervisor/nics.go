package hypervisor

import (
	"context"
	"fmt"
	"strings"

	"libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"
)

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

// PlugNIC adds a NIC to a server's definition and, when it runs, to the
// running guest. A NIC already present (by MAC) is left alone.
func (h *Host) PlugNIC(ctx context.Context, id string, nic NIC) error {
	return h.changeNIC(ctx, id, nic, true)
}

// UnplugNIC removes a NIC (by MAC) from a server, live and from its
// definition; a NIC that is not there is no error.
func (h *Host) UnplugNIC(ctx context.Context, id string, nic NIC) error {
	return h.changeNIC(ctx, id, nic, false)
}

func (h *Host) changeNIC(ctx context.Context, id string, nic NIC, plug bool) error {
	return h.withDomain(ctx, id, func(s *session, d *libvirt.Domain) error {
		desc, err := d.GetXMLDesc(libvirt.DOMAIN_XML_INACTIVE)
		if err != nil {
			return h.wrap("reading domain of "+id, err)
		}
		var dom libvirtxml.Domain
		if err := dom.Unmarshal(desc); err != nil {
			return fmt.Errorf("hypervisor: domain of %s: %w", id, err)
		}
		present := false
		if dom.Devices != nil {
			for _, itf := range dom.Devices.Interfaces {
				present = present || itf.MAC != nil && strings.EqualFold(itf.MAC.Address, nic.MAC)
			}
		}
		if present == plug {
			return nil
		}
		xml, err := interfaces([]NIC{nic})[0].Marshal()
		if err != nil {
			return err
		}
		flags := libvirt.DOMAIN_DEVICE_MODIFY_CONFIG
		if active, err := d.IsActive(); err == nil && active {
			flags |= libvirt.DOMAIN_DEVICE_MODIFY_LIVE
		}
		step, change := "plugging a NIC into "+id, d.AttachDeviceFlags
		if !plug {
			step, change = "unplugging a NIC from "+id, d.DetachDeviceFlags
		}
		if err := change(xml, flags); err != nil {
			return h.wrap(step, err)
		}
		return nil
	})
}
