package networking

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/boolvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*portResource)(nil)
	_ resource.ResourceWithImportState = (*portResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*portResource)(nil)
)

// NewPortResource is stratus_networking_port (openstack_networking_port_v2).
func NewPortResource() resource.Resource { return &portResource{} }

type portResource struct{ tfutil.ResourceBase }

type portModel struct {
	ID                  types.String   `tfsdk:"id"`
	Name                types.String   `tfsdk:"name"`
	Description         types.String   `tfsdk:"description"`
	NetworkID           types.String   `tfsdk:"network_id"`
	AdminStateUp        types.Bool     `tfsdk:"admin_state_up"`
	MACAddress          types.String   `tfsdk:"mac_address"`
	DeviceID            types.String   `tfsdk:"device_id"`
	DeviceOwner         types.String   `tfsdk:"device_owner"`
	SecurityGroupIDs    types.Set      `tfsdk:"security_group_ids"`
	NoSecurityGroups    types.Bool     `tfsdk:"no_security_groups"`
	AllSecurityGroupIDs types.Set      `tfsdk:"all_security_group_ids"`
	FixedIPs            []fixedIPModel `tfsdk:"fixed_ip"`
	AllFixedIPs         types.List     `tfsdk:"all_fixed_ips"`
	TenantID            types.String   `tfsdk:"tenant_id"`
	Timeouts            timeouts.Value `tfsdk:"timeouts"`
}

type fixedIPModel struct {
	SubnetID  types.String `tfsdk:"subnet_id"`
	IPAddress types.String `tfsdk:"ip_address"`
}

func (r *portResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_networking_port"
}

func (r *portResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Neutron port: a virtual NIC on a network with its MAC and fixed IPs, for a server's `network { port }` or a router. " +
			"Everything but the network, MAC address and project changes in place. " +
			"Without `fixed_ip` blocks Neutron gives the port an address on each subnet it chooses; `all_fixed_ips` lists them. " +
			"An import fills `fixed_ip` with every address the port has.",
		Attributes: map[string]schema.Attribute{
			"id":             tfutil.IDAttribute("The port id."),
			"name":           nameAttr("port"),
			"description":    descriptionAttr("port"),
			"network_id":     requiredForceNew("Id of the network of the port; changing it replaces the port."),
			"admin_state_up": adminStateAttr("port"),
			"mac_address": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "MAC address; generated when not set. Changing it replaces the port.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace(), stringplanmodifier.UseStateForUnknown()},
			},
			"device_id": schema.StringAttribute{
				Optional: true, Computed: true, PlanModifiers: keep,
				MarkdownDescription: "Id of what uses the port (a server or router); set by Nova when a server attaches the port.",
			},
			"device_owner": schema.StringAttribute{
				Optional: true, Computed: true, PlanModifiers: keep,
				MarkdownDescription: "Kind of user of the port, such as `compute:nova` or `network:router_interface`; set by the service that attaches it.",
			},
			"security_group_ids": schema.SetAttribute{
				ElementType: types.StringType, Optional: true, Computed: true,
				MarkdownDescription: "Ids of the security groups of the port; the project's `default` group when not set. Changes in place.",
				PlanModifiers:       []planmodifier.Set{setplanmodifier.UseStateForUnknown()},
			},
			"no_security_groups": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Give the port no security group at all (not even `default`). Changes in place. Defaults to `false`.",
				Validators:          []validator.Bool{boolvalidator.ConflictsWith(path.MatchRoot("security_group_ids"))},
			},
			"all_security_group_ids": schema.SetAttribute{
				ElementType: types.StringType, Computed: true,
				MarkdownDescription: "Ids of the security groups the port has, including defaults.",
			},
			"all_fixed_ips": schema.ListAttribute{
				ElementType: types.StringType, Computed: true,
				MarkdownDescription: "Every fixed IP address of the port, whether asked for in `fixed_ip` or chosen by Neutron.",
			},
			"tenant_id": tenantAttr("port"),
		},
		Blocks: map[string]schema.Block{
			"fixed_ip": schema.ListNestedBlock{
				MarkdownDescription: "An address of the port on a subnet. Changes in place.",
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"subnet_id": schema.StringAttribute{Required: true, MarkdownDescription: "Id of the subnet."},
					"ip_address": schema.StringAttribute{
						Optional: true, Computed: true, PlanModifiers: keep,
						MarkdownDescription: "The address; the next free one of the subnet when not set.",
					},
				}},
			},
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

// ModifyPlan plans the security groups no_security_groups implies, which
// UseStateForUnknown would otherwise keep from state: none, or Neutron's
// default again when it is turned off.
func (r *portResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || req.State.Raw.IsNull() {
		return
	}
	var plan, state, config portModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() || plan.NoSecurityGroups.Equal(state.NoSecurityGroups) || !config.SecurityGroupIDs.IsNull() {
		return
	}
	sgs := types.SetUnknown(types.StringType)
	if plan.NoSecurityGroups.ValueBool() {
		sgs = tfutil.SetOf(nil)
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("security_group_ids"), sgs)...)
}

func fixedIPOpts(ips []fixedIPModel) []ports.IP {
	out := []ports.IP{}
	for _, ip := range ips {
		a := ip.IPAddress.ValueString()
		if ip.IPAddress.IsUnknown() {
			a = ""
		}
		out = append(out, ports.IP{SubnetID: ip.SubnetID.ValueString(), IPAddress: a})
	}
	return out
}

// securityGroups is what to send: nil for Neutron's default, empty for
// none.
func (m portModel) securityGroups(ctx context.Context, r *resource.CreateResponse) *[]string {
	switch {
	case m.NoSecurityGroups.ValueBool():
		return &[]string{}
	case m.SecurityGroupIDs.IsUnknown() || m.SecurityGroupIDs.IsNull():
		return nil
	}
	sgs := tfutil.Strings(ctx, m.SecurityGroupIDs, &r.Diagnostics)
	return &sgs
}

func (r *portResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan portModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Create, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	nc := r.Network(&resp.Diagnostics)
	if nc == nil {
		return
	}
	opts := ports.CreateOpts{
		NetworkID:      plan.NetworkID.ValueString(),
		Name:           plan.Name.ValueString(),
		Description:    plan.Description.ValueString(),
		AdminStateUp:   plan.AdminStateUp.ValueBoolPointer(),
		MACAddress:     tfutil.Known(plan.MACAddress),
		DeviceID:       tfutil.Known(plan.DeviceID),
		DeviceOwner:    tfutil.Known(plan.DeviceOwner),
		TenantID:       tfutil.Known(plan.TenantID),
		SecurityGroups: plan.securityGroups(ctx, resp),
	}
	if len(plan.FixedIPs) > 0 {
		opts.FixedIPs = fixedIPOpts(plan.FixedIPs)
	}
	p, err := ports.Create(ctx, nc, opts).Extract()
	if err != nil {
		resp.Diagnostics.AddError("creating Port ("+plan.Name.ValueString()+")", err.Error())
		return
	}
	setPort(&plan, p, false)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *portResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state portModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	nc := r.Network(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := ports.Get(ctx, nc, state.ID.ValueString()).Extract()
	if tfutil.Gone(ctx, err, resp, "Port ("+state.ID.ValueString()+")") {
		return
	}
	// Only an import leaves the required network_id empty.
	setPort(&state, p, state.NetworkID.IsNull())
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *portResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state portModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Update, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	nc := r.Network(&resp.Diagnostics)
	if nc == nil {
		return
	}
	var opts ports.UpdateOpts
	if !plan.Name.Equal(state.Name) {
		opts.Name = plan.Name.ValueStringPointer()
	}
	if !plan.Description.Equal(state.Description) {
		opts.Description = plan.Description.ValueStringPointer()
	}
	if !plan.AdminStateUp.Equal(state.AdminStateUp) {
		opts.AdminStateUp = plan.AdminStateUp.ValueBoolPointer()
	}
	if !plan.DeviceID.IsUnknown() && !plan.DeviceID.Equal(state.DeviceID) {
		opts.DeviceID = plan.DeviceID.ValueStringPointer()
	}
	if !plan.DeviceOwner.IsUnknown() && !plan.DeviceOwner.Equal(state.DeviceOwner) {
		opts.DeviceOwner = plan.DeviceOwner.ValueStringPointer()
	}
	if !plan.NoSecurityGroups.Equal(state.NoSecurityGroups) || !plan.SecurityGroupIDs.IsUnknown() && !plan.SecurityGroupIDs.Equal(state.SecurityGroupIDs) {
		var sgs []string
		switch {
		case plan.NoSecurityGroups.ValueBool():
		case plan.SecurityGroupIDs.IsUnknown():
			// no_security_groups turned off without ids: Neutron's default
			// again, which an update does not pick itself.
			id, err := defaultGroup(ctx, nc, state.TenantID.ValueString())
			if err != nil {
				resp.Diagnostics.AddError("finding the default Security Group of project "+state.TenantID.ValueString(), err.Error())
				return
			}
			sgs = []string{id}
		default:
			sgs = tfutil.Strings(ctx, plan.SecurityGroupIDs, &resp.Diagnostics)
		}
		if sgs == nil {
			sgs = []string{}
		}
		opts.SecurityGroups = &sgs
	}
	if !equalFixedIPs(plan.FixedIPs, state.FixedIPs) {
		opts.FixedIPs = fixedIPOpts(plan.FixedIPs)
	}
	p, err := ports.Update(ctx, nc, state.ID.ValueString(), opts).Extract()
	if err != nil {
		resp.Diagnostics.AddError("updating Port ("+state.ID.ValueString()+")", err.Error())
		return
	}
	setPort(&plan, p, false)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// defaultGroup is the id of the security group named default of project.
func defaultGroup(ctx context.Context, nc *gophercloud.ServiceClient, project string) (string, error) {
	pages, err := groups.List(nc, groups.ListOpts{Name: "default", ProjectID: project}).AllPages(ctx)
	if err != nil {
		return "", err
	}
	gs, err := groups.ExtractGroups(pages)
	if err != nil {
		return "", err
	}
	if len(gs) != 1 {
		return "", fmt.Errorf("%d groups named default", len(gs))
	}
	return gs[0].ID, nil
}

func equalFixedIPs(a, b []fixedIPModel) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].SubnetID.Equal(b[i].SubnetID) || !a[i].IPAddress.IsUnknown() && !a[i].IPAddress.Equal(b[i].IPAddress) {
			return false
		}
	}
	return true
}

func (r *portResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state portModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, state.Timeouts.Delete, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	nc := r.Network(&resp.Diagnostics)
	if nc == nil {
		return
	}
	tfutil.Deleted(ports.Delete(ctx, nc, state.ID.ValueString()).ExtractErr(), &resp.Diagnostics, "Port ("+state.ID.ValueString()+")")
}

// setPort copies p into m. fixed_ip blocks follow the port's addresses
// when the configuration has some, or on import; otherwise Neutron's
// choice is only in all_fixed_ips.
func setPort(m *portModel, p *ports.Port, imported bool) {
	m.ID = types.StringValue(p.ID)
	m.Name = types.StringValue(p.Name)
	m.Description = types.StringValue(p.Description)
	m.NetworkID = types.StringValue(p.NetworkID)
	m.AdminStateUp = types.BoolValue(p.AdminStateUp)
	m.MACAddress = types.StringValue(p.MACAddress)
	m.DeviceID = types.StringValue(p.DeviceID)
	m.DeviceOwner = types.StringValue(p.DeviceOwner)
	m.TenantID = projectOf(p.ProjectID, p.TenantID)
	m.AllSecurityGroupIDs = tfutil.SetOf(p.SecurityGroups)
	m.SecurityGroupIDs = tfutil.SetOf(p.SecurityGroups)
	if imported || m.NoSecurityGroups.IsNull() || m.NoSecurityGroups.IsUnknown() {
		m.NoSecurityGroups = types.BoolValue(len(p.SecurityGroups) == 0)
	}
	all := make([]string, len(p.FixedIPs))
	for i, ip := range p.FixedIPs {
		all[i] = ip.IPAddress
	}
	m.AllFixedIPs = tfutil.ListOf(all)
	if len(m.FixedIPs) > 0 || imported {
		m.FixedIPs = nil
		for _, ip := range p.FixedIPs {
			m.FixedIPs = append(m.FixedIPs, fixedIPModel{SubnetID: types.StringValue(ip.SubnetID), IPAddress: types.StringValue(ip.IPAddress)})
		}
	}
}
