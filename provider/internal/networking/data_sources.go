package networking

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ datasource.DataSourceWithConfigure = (*networkDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*subnetDataSource)(nil)
)

// one is the single element of list, or an error naming what was looked
// for when there is none or more than one.
func one[T any](list []T, what string) (*T, error) {
	switch len(list) {
	case 0:
		return nil, fmt.Errorf("no %s matches", what)
	case 1:
		return &list[0], nil
	}
	return nil, fmt.Errorf("%d %ss match: narrow the search", len(list), what)
}

// NewNetworkDataSource is stratus_networking_network
// (openstack_networking_network_v2).
func NewNetworkDataSource() datasource.DataSource { return &networkDataSource{} }

type networkDataSource struct{ tfutil.DataSourceBase }

type networkDataModel struct {
	ID           types.String `tfsdk:"id"`
	NetworkID    types.String `tfsdk:"network_id"`
	Name         types.String `tfsdk:"name"`
	External     types.Bool   `tfsdk:"external"`
	TenantID     types.String `tfsdk:"tenant_id"`
	Description  types.String `tfsdk:"description"`
	AdminStateUp types.Bool   `tfsdk:"admin_state_up"`
	Shared       types.Bool   `tfsdk:"shared"`
	MTU          types.Int64  `tfsdk:"mtu"`
	Subnets      types.List   `tfsdk:"subnets"`
}

func (d *networkDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_networking_network"
}

func (d *networkDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up one network by id, name, project or whether it is external; exactly one network must match.",
		Attributes: map[string]schema.Attribute{
			"network_id":     schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Id of the network to find."},
			"name":           schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Name of the network to find."},
			"external":       schema.BoolAttribute{Optional: true, Computed: true, MarkdownDescription: "Find only external (or only internal) networks."},
			"tenant_id":      schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Project that owns the network to find."},
			"id":             schema.StringAttribute{Computed: true, MarkdownDescription: "Id of the network."},
			"description":    schema.StringAttribute{Computed: true, MarkdownDescription: "Description of the network."},
			"admin_state_up": schema.BoolAttribute{Computed: true, MarkdownDescription: "Administrative state of the network."},
			"shared":         schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether every project may use the network."},
			"mtu":            schema.Int64Attribute{Computed: true, MarkdownDescription: "MTU of the network."},
			"subnets":        schema.ListAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: "Ids of the network's subnets."},
		},
	}
}

func (d *networkDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m networkDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	nc := d.Network(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	opts := external.ListOptsExt{
		ListOptsBuilder: networks.ListOpts{ID: m.NetworkID.ValueString(), Name: m.Name.ValueString(), TenantID: m.TenantID.ValueString()},
		External:        m.External.ValueBoolPointer(),
	}
	var list []networkJSON
	page, err := networks.List(nc, opts).AllPages(ctx)
	if err == nil {
		err = networks.ExtractNetworksInto(page, &list)
	}
	var n *networkJSON
	if err == nil {
		n, err = one(list, "network")
	}
	if err != nil {
		resp.Diagnostics.AddError("finding Network", err.Error())
		return
	}
	m.ID, m.NetworkID, m.Name = types.StringValue(n.ID), types.StringValue(n.ID), types.StringValue(n.Name)
	m.External, m.TenantID, m.Description = types.BoolValue(n.External), projectOf(n.ProjectID, n.TenantID), types.StringValue(n.Description)
	m.AdminStateUp, m.Shared, m.MTU = types.BoolValue(n.AdminStateUp), types.BoolValue(n.Shared), types.Int64Value(int64(n.MTU))
	m.Subnets = tfutil.ListOf(n.Subnets)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

// NewSubnetDataSource is stratus_networking_subnet
// (openstack_networking_subnet_v2).
func NewSubnetDataSource() datasource.DataSource { return &subnetDataSource{} }

type subnetDataSource struct{ tfutil.DataSourceBase }

type subnetDataModel struct {
	ID             types.String `tfsdk:"id"`
	SubnetID       types.String `tfsdk:"subnet_id"`
	Name           types.String `tfsdk:"name"`
	NetworkID      types.String `tfsdk:"network_id"`
	CIDR           types.String `tfsdk:"cidr"`
	IPVersion      types.Int64  `tfsdk:"ip_version"`
	TenantID       types.String `tfsdk:"tenant_id"`
	Description    types.String `tfsdk:"description"`
	GatewayIP      types.String `tfsdk:"gateway_ip"`
	EnableDHCP     types.Bool   `tfsdk:"enable_dhcp"`
	DNSNameservers types.List   `tfsdk:"dns_nameservers"`
}

func (d *subnetDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_networking_subnet"
}

func (d *subnetDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up one subnet by id, name, network, CIDR, IP version or project; exactly one subnet must match.",
		Attributes: map[string]schema.Attribute{
			"subnet_id":  schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Id of the subnet to find."},
			"name":       schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Name of the subnet to find."},
			"network_id": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Id of the network of the subnet to find."},
			"cidr":       schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "CIDR of the subnet to find."},
			"ip_version": schema.Int64Attribute{Optional: true, Computed: true, MarkdownDescription: "IP version (4 or 6) of the subnet to find.",
				Validators: []validator.Int64{int64validator.OneOf(4, 6)}},
			"tenant_id":       schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Project that owns the subnet to find."},
			"id":              schema.StringAttribute{Computed: true, MarkdownDescription: "Id of the subnet."},
			"description":     schema.StringAttribute{Computed: true, MarkdownDescription: "Description of the subnet."},
			"gateway_ip":      schema.StringAttribute{Computed: true, MarkdownDescription: "Gateway address; empty for none."},
			"enable_dhcp":     schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether DHCP is on."},
			"dns_nameservers": schema.ListAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: "DNS servers handed out by DHCP."},
		},
	}
}

func (d *subnetDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m subnetDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	nc := d.Network(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	s, err := findSubnet(ctx, nc, subnets.ListOpts{
		ID: m.SubnetID.ValueString(), Name: m.Name.ValueString(), NetworkID: m.NetworkID.ValueString(),
		CIDR: m.CIDR.ValueString(), IPVersion: int(m.IPVersion.ValueInt64()), TenantID: m.TenantID.ValueString(),
	})
	if err != nil {
		resp.Diagnostics.AddError("finding Subnet", err.Error())
		return
	}
	m.ID, m.SubnetID, m.Name, m.NetworkID = types.StringValue(s.ID), types.StringValue(s.ID), types.StringValue(s.Name), types.StringValue(s.NetworkID)
	m.CIDR, m.IPVersion, m.TenantID = types.StringValue(s.CIDR), types.Int64Value(int64(s.IPVersion)), projectOf(s.ProjectID, s.TenantID)
	m.Description, m.GatewayIP, m.EnableDHCP = types.StringValue(s.Description), types.StringValue(s.GatewayIP), types.BoolValue(s.EnableDHCP)
	m.DNSNameservers = tfutil.ListOf(s.DNSNameservers)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

func findSubnet(ctx context.Context, nc *gophercloud.ServiceClient, opts subnets.ListOpts) (*subnets.Subnet, error) {
	page, err := subnets.List(nc, opts).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	list, err := subnets.ExtractSubnets(page)
	if err != nil {
		return nil, err
	}
	return one(list, "subnet")
}
