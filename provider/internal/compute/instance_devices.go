package compute

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/attachinterfaces"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

// instanceNetworkModel is one `network` block: a NIC of the server.
type instanceNetworkModel struct {
	UUID      types.String `tfsdk:"uuid"`
	Name      types.String `tfsdk:"name"`
	Port      types.String `tfsdk:"port"`
	FixedIPv4 types.String `tfsdk:"fixed_ip_v4"`
	MAC       types.String `tfsdk:"mac"`
}

// blockDeviceModel is one `block_device` block of block_device_mapping_v2.
type blockDeviceModel struct {
	UUID                types.String `tfsdk:"uuid"`
	SourceType          types.String `tfsdk:"source_type"`
	DestinationType     types.String `tfsdk:"destination_type"`
	VolumeSize          types.Int64  `tfsdk:"volume_size"`
	BootIndex           types.Int64  `tfsdk:"boot_index"`
	DeleteOnTermination types.Bool   `tfsdk:"delete_on_termination"`
	VolumeType          types.String `tfsdk:"volume_type"`
}

func networkBlock() schema.ListNestedBlock {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	return schema.ListNestedBlock{
		MarkdownDescription: "A NIC of the server, in order: on a network (by `uuid` or `name`) or an existing port (`port`). " +
			"Changing the list replaces the server. What is not given is read back from the server's ports, so a second plan is empty; " +
			"an import fills the blocks from the server's ports.",
		PlanModifiers: []planmodifier.List{listplanmodifier.RequiresReplace()},
		NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
			"uuid": schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: keep,
				MarkdownDescription: "Id of the network."},
			"name": schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: keep,
				MarkdownDescription: "Name of the network, looked up when the server is created."},
			"port": schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: keep,
				MarkdownDescription: "Id of an existing port (`stratus_networking_port`) to use; created by Nova when not given."},
			"fixed_ip_v4": schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: keep,
				MarkdownDescription: "IPv4 address of the NIC; the next free one when not given."},
			"mac": schema.StringAttribute{Computed: true, PlanModifiers: keep,
				MarkdownDescription: "MAC address of the NIC."},
		}},
	}
}

func blockDeviceBlock() schema.ListNestedBlock {
	return schema.ListNestedBlock{
		MarkdownDescription: "A disk of the server (block_device_mapping_v2), such as a root volume made from an image or an existing volume. " +
			"Changing the list replaces the server. Block devices are not read back, so an import leaves them out and " +
			"the first apply after it records the configured ones in place. " +
			"Attach volumes to a running server with `stratus_compute_volume_attach` instead.",
		PlanModifiers: []planmodifier.List{replaceBlockDevices()},
		NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
			"source_type": schema.StringAttribute{Required: true,
				MarkdownDescription: "What the disk is made from: `image`, `volume`, `snapshot` or `blank`.",
				Validators:          []validator.String{stringvalidator.OneOf("image", "volume", "snapshot", "blank")}},
			"uuid": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Id of the image, volume or snapshot; none for `blank`."},
			"destination_type": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("volume"),
				MarkdownDescription: "`volume` (a block storage volume) or `local` (a disk on the host). Defaults to `volume`.",
				Validators:          []validator.String{stringvalidator.OneOf("volume", "local")}},
			"volume_size": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(0),
				MarkdownDescription: "Size in GiB of a volume made from an image, snapshot or nothing."},
			"boot_index": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(0),
				MarkdownDescription: "Boot order: `0` is the root disk, `-1` never boots. Defaults to `0`."},
			"delete_on_termination": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Delete the volume with the server. Defaults to `false`."},
			"volume_type": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(""),
				MarkdownDescription: "Volume type of a new volume; the default type when empty."},
		}},
	}
}

// importedKey marks, in private state, a server imported and not updated
// since: its block devices were not read back, and its security_groups are
// those of all its ports, ports passed in by id included, which neither
// Nova nor Neutron tell apart from the ports Nova created.
const importedKey = "imported"

// replaceBlockDevices is RequiresReplace for block_device, except while the
// server is imported and the list in state is empty only because it was
// not read: then the configured list is recorded in place.
func replaceBlockDevices() planmodifier.List {
	const why = "Changing the list replaces the server, except when an imported server gets its block devices recorded."
	return listplanmodifier.RequiresReplaceIf(func(ctx context.Context, req planmodifier.ListRequest, resp *listplanmodifier.RequiresReplaceIfFuncResponse) {
		imported, diags := req.Private.GetKey(ctx, importedKey)
		resp.Diagnostics.Append(diags...)
		resp.RequiresReplace = imported == nil || len(req.StateValue.Elements()) > 0
	}, why, why)
}

// createNetworks turns network blocks into Nova's networks, looking up
// networks given by name.
func createNetworks(ctx context.Context, nc *gophercloud.ServiceClient, blocks []instanceNetworkModel) ([]servers.Network, error) {
	var out []servers.Network
	for _, b := range blocks {
		n := servers.Network{UUID: tfutil.Known(b.UUID), Port: tfutil.Known(b.Port), FixedIP: tfutil.Known(b.FixedIPv4)}
		if n.UUID == "" && n.Port == "" && tfutil.Known(b.Name) != "" {
			id, err := networkIDByName(ctx, nc, tfutil.Known(b.Name))
			if err != nil {
				return nil, err
			}
			n.UUID = id
		}
		if n.UUID == "" && n.Port == "" {
			return nil, fmt.Errorf("a network block needs uuid, name or port")
		}
		out = append(out, n)
	}
	return out, nil
}

func networkIDByName(ctx context.Context, nc *gophercloud.ServiceClient, name string) (string, error) {
	page, err := networks.List(nc, networks.ListOpts{Name: name}).AllPages(ctx)
	if err != nil {
		return "", err
	}
	list, err := networks.ExtractNetworks(page)
	if err != nil {
		return "", err
	}
	if len(list) != 1 {
		return "", fmt.Errorf("%d networks are named %q: use uuid", len(list), name)
	}
	return list[0].ID, nil
}

func blockDevices(blocks []blockDeviceModel) []servers.BlockDevice {
	var out []servers.BlockDevice
	for _, b := range blocks {
		out = append(out, servers.BlockDevice{
			SourceType:          servers.SourceType(b.SourceType.ValueString()),
			UUID:                b.UUID.ValueString(),
			DestinationType:     servers.DestinationType(b.DestinationType.ValueString()),
			VolumeSize:          int(b.VolumeSize.ValueInt64()),
			BootIndex:           int(b.BootIndex.ValueInt64()),
			DeleteOnTermination: b.DeleteOnTermination.ValueBool(),
			VolumeType:          b.VolumeType.ValueString(),
		})
	}
	return out
}

// readNetworks fills the network blocks from the server's ports: each
// block takes the port it names, else the first unclaimed port on its
// network, else the next unclaimed port. With no blocks (an import) there
// is one block per port, in the server's NIC order (os-interface's).
func readNetworks(ctx context.Context, cc, nc *gophercloud.ServiceClient, serverID string, blocks []instanceNetworkModel, imported bool) ([]instanceNetworkModel, error) {
	page, err := ports.List(nc, ports.ListOpts{DeviceID: serverID}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	list, err := ports.ExtractPorts(page)
	if err != nil {
		return nil, err
	}
	if imported {
		if list, err = inNICOrder(ctx, cc, serverID, list); err != nil {
			return nil, err
		}
		blocks = make([]instanceNetworkModel, len(list))
		for i := range blocks {
			blocks[i] = instanceNetworkModel{Port: types.StringValue(list[i].ID)}
		}
	}
	claimed := map[string]bool{}
	pick := func(match func(p ports.Port) bool) *ports.Port {
		for i, p := range list {
			if !claimed[p.ID] && match(p) {
				claimed[p.ID] = true
				return &list[i]
			}
		}
		return nil
	}
	names := map[string]string{}
	out := make([]instanceNetworkModel, len(blocks))
	for i, b := range blocks {
		var p *ports.Port
		switch {
		case tfutil.Known(b.Port) != "":
			p = pick(func(p ports.Port) bool { return p.ID == tfutil.Known(b.Port) })
		case tfutil.Known(b.UUID) != "":
			p = pick(func(p ports.Port) bool { return p.NetworkID == tfutil.Known(b.UUID) })
		}
		if p == nil {
			p = pick(func(ports.Port) bool { return true })
		}
		out[i] = b
		if p == nil {
			// The NIC is gone: unknown values make the plan replace the server.
			out[i] = instanceNetworkModel{UUID: types.StringValue(""), Name: types.StringValue(""), Port: types.StringValue(""),
				FixedIPv4: types.StringValue(""), MAC: types.StringValue("")}
			continue
		}
		if _, ok := names[p.NetworkID]; !ok {
			n, err := networks.Get(ctx, nc, p.NetworkID).Extract()
			if err != nil {
				return nil, err
			}
			names[p.NetworkID] = n.Name
		}
		out[i].UUID, out[i].Name, out[i].Port = types.StringValue(p.NetworkID), types.StringValue(names[p.NetworkID]), types.StringValue(p.ID)
		out[i].MAC, out[i].FixedIPv4 = types.StringValue(p.MACAddress), types.StringValue(firstIPv4(p.FixedIPs))
	}
	return out, nil
}

func firstIPv4(ips []ports.IP) string {
	for _, ip := range ips {
		if a, err := netip.ParseAddr(ip.IPAddress); err == nil && a.Is4() {
			return ip.IPAddress
		}
	}
	return ""
}

// inNICOrder sorts a server's ports as its NICs are, which Nova's
// os-interface lists in order.
func inNICOrder(ctx context.Context, cc *gophercloud.ServiceClient, serverID string, list []ports.Port) ([]ports.Port, error) {
	page, err := attachinterfaces.List(cc, serverID).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	nics, err := attachinterfaces.ExtractInterfaces(page)
	if err != nil {
		return nil, err
	}
	rank := map[string]int{}
	for i, nic := range nics {
		rank[nic.PortID] = i
	}
	slices.SortStableFunc(list, func(a, b ports.Port) int { return rank[a.ID] - rank[b.ID] })
	return list, nil
}
