package networking

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*subnetResource)(nil)
	_ resource.ResourceWithImportState = (*subnetResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*subnetResource)(nil)
)

// NewSubnetResource is stratus_networking_subnet
// (openstack_networking_subnet_v2).
func NewSubnetResource() resource.Resource { return &subnetResource{} }

type subnetResource struct{ tfutil.ResourceBase }

type subnetModel struct {
	ID              types.String   `tfsdk:"id"`
	NetworkID       types.String   `tfsdk:"network_id"`
	CIDR            types.String   `tfsdk:"cidr"`
	Name            types.String   `tfsdk:"name"`
	Description     types.String   `tfsdk:"description"`
	IPVersion       types.Int64    `tfsdk:"ip_version"`
	GatewayIP       types.String   `tfsdk:"gateway_ip"`
	NoGateway       types.Bool     `tfsdk:"no_gateway"`
	EnableDHCP      types.Bool     `tfsdk:"enable_dhcp"`
	DNSNameservers  types.List     `tfsdk:"dns_nameservers"`
	AllocationPools []poolModel    `tfsdk:"allocation_pool"`
	TenantID        types.String   `tfsdk:"tenant_id"`
	Timeouts        timeouts.Value `tfsdk:"timeouts"`
}

type poolModel struct {
	Start types.String `tfsdk:"start"`
	End   types.String `tfsdk:"end"`
}

func (r *subnetResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_networking_subnet"
}

func (r *subnetResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Neutron subnet: an IP range of a network, from which ports get addresses. " +
			"The network, CIDR and IP version cannot change; the name, gateway, DHCP, DNS servers and allocation pools change in place.",
		Attributes: map[string]schema.Attribute{
			"id":         tfutil.IDAttribute("The subnet id."),
			"network_id": requiredForceNew("Id of the network the subnet belongs to; changing it replaces the subnet."),
			"cidr": schema.StringAttribute{
				Required: true, MarkdownDescription: "The subnet's range in CIDR notation, such as `10.0.0.0/24`; changing it replaces the subnet.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{cidrValidator{}},
			},
			"name":        nameAttr("subnet"),
			"description": descriptionAttr("subnet"),
			"ip_version": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(4),
				MarkdownDescription: "IP version, `4` or `6`, matching `cidr`; changing it replaces the subnet. Defaults to `4`.",
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.RequiresReplace()},
				Validators:          []validator.Int64{int64validator.OneOf(4, 6)},
			},
			"gateway_ip": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Gateway address; Neutron picks the first address of `cidr` when neither this nor `no_gateway` is set. Changes in place.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				Validators:          []validator.String{stringvalidator.ConflictsWith(path.MatchRoot("no_gateway"))},
			},
			"no_gateway": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Create the subnet without a gateway. Changes in place. Defaults to `false`.",
			},
			"enable_dhcp": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Whether ports on the subnet get their address by DHCP. Changes in place. Defaults to `true`.",
			},
			"dns_nameservers": schema.ListAttribute{
				ElementType: types.StringType, Optional: true, Computed: true,
				Default:             listdefault.StaticValue(tfutil.ListOf(nil)),
				MarkdownDescription: "DNS servers handed out by DHCP, in order. Changes in place. Defaults to none.",
			},
			"tenant_id": tenantAttr("subnet"),
		},
		Blocks: map[string]schema.Block{
			"allocation_pool": schema.ListNestedBlock{
				MarkdownDescription: "A range ports get addresses from; Neutron uses all of `cidr` but the gateway when none is given. Changes in place.",
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"start": schema.StringAttribute{Required: true, MarkdownDescription: "First address of the range."},
					"end":   schema.StringAttribute{Required: true, MarkdownDescription: "Last address of the range."},
				}},
			},
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

// ModifyPlan plans an empty gateway for no_gateway, which UseStateForUnknown
// would otherwise keep from state, and an unknown one when no_gateway is
// removed without a gateway_ip: Update then sets Neutron's default.
func (r *subnetResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var noGateway types.Bool
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("no_gateway"), &noGateway)...)
	if noGateway.ValueBool() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("gateway_ip"), types.StringValue(""))...)
		return
	}
	if req.State.Raw.IsNull() {
		return
	}
	var hadNoGateway types.Bool
	var configured types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("no_gateway"), &hadNoGateway)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("gateway_ip"), &configured)...)
	if hadNoGateway.ValueBool() && configured.IsNull() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("gateway_ip"), types.StringUnknown())...)
	}
}

func (r *subnetResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan subnetModel
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
	opts := subnets.CreateOpts{
		NetworkID:       plan.NetworkID.ValueString(),
		CIDR:            plan.CIDR.ValueString(),
		Name:            plan.Name.ValueString(),
		Description:     plan.Description.ValueString(),
		TenantID:        plan.TenantID.ValueString(),
		IPVersion:       gophercloud.IPVersion(plan.IPVersion.ValueInt64()),
		EnableDHCP:      plan.EnableDHCP.ValueBoolPointer(),
		DNSNameservers:  tfutil.Strings(ctx, plan.DNSNameservers, &resp.Diagnostics),
		AllocationPools: pools(plan.AllocationPools),
		GatewayIP:       gateway(plan),
	}
	s, err := subnets.Create(ctx, nc, opts).Extract()
	if err != nil {
		resp.Diagnostics.AddError("creating Subnet ("+plan.CIDR.ValueString()+")", err.Error())
		return
	}
	setSubnet(&plan, s)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// gateway is the gateway_ip to send: nil for Neutron's default, "" (sent
// as null) for none.
func gateway(m subnetModel) *string {
	switch {
	case m.NoGateway.ValueBool():
		return ptr("")
	case m.GatewayIP.IsUnknown() || m.GatewayIP.IsNull():
		return nil
	}
	return m.GatewayIP.ValueStringPointer()
}

func pools(ps []poolModel) []subnets.AllocationPool {
	var out []subnets.AllocationPool
	for _, p := range ps {
		out = append(out, subnets.AllocationPool{Start: p.Start.ValueString(), End: p.End.ValueString()})
	}
	return out
}

func (r *subnetResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state subnetModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	nc := r.Network(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	s, err := subnets.Get(ctx, nc, state.ID.ValueString()).Extract()
	if tfutil.Gone(ctx, err, resp, "Subnet ("+state.ID.ValueString()+")") {
		return
	}
	setSubnet(&state, s)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *subnetResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state subnetModel
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
	var opts subnets.UpdateOpts
	if !plan.Name.Equal(state.Name) {
		opts.Name = plan.Name.ValueStringPointer()
	}
	if !plan.Description.Equal(state.Description) {
		opts.Description = plan.Description.ValueStringPointer()
	}
	if !plan.EnableDHCP.Equal(state.EnableDHCP) {
		opts.EnableDHCP = plan.EnableDHCP.ValueBoolPointer()
	}
	if !plan.DNSNameservers.Equal(state.DNSNameservers) {
		ns := tfutil.Strings(ctx, plan.DNSNameservers, &resp.Diagnostics)
		if ns == nil {
			ns = []string{}
		}
		opts.DNSNameservers = &ns
	}
	switch {
	case state.NoGateway.ValueBool() && !plan.NoGateway.ValueBool() && plan.GatewayIP.IsUnknown():
		// Neutron's default gateway, which an update does not pick itself.
		gw := firstHost(plan.CIDR.ValueString())
		opts.GatewayIP = &gw
	case !plan.NoGateway.Equal(state.NoGateway) || !plan.GatewayIP.IsUnknown() && !plan.GatewayIP.Equal(state.GatewayIP):
		opts.GatewayIP = gateway(plan)
	}
	switch {
	case len(plan.AllocationPools) > 0 && !equalPools(plan.AllocationPools, state.AllocationPools):
		opts.AllocationPools = pools(plan.AllocationPools)
	case len(plan.AllocationPools) == 0 && len(state.AllocationPools) > 0:
		// The blocks were removed: back to the pool Neutron would have
		// given, around the gateway the subnet has after this update.
		gw := state.GatewayIP.ValueString()
		if opts.GatewayIP != nil {
			gw = *opts.GatewayIP
		}
		opts.AllocationPools = defaultPools(plan.CIDR.ValueString(), gw)
	}
	s, err := subnets.Update(ctx, nc, state.ID.ValueString(), opts).Extract()
	if err != nil {
		resp.Diagnostics.AddError("updating Subnet ("+state.ID.ValueString()+")", err.Error())
		return
	}
	setSubnet(&plan, s)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func equalPools(a, b []poolModel) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Start.Equal(b[i].Start) || !a[i].End.Equal(b[i].End) {
			return false
		}
	}
	return true
}

func (r *subnetResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state subnetModel
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
	tfutil.Deleted(subnets.Delete(ctx, nc, state.ID.ValueString()).ExtractErr(), &resp.Diagnostics, "Subnet ("+state.ID.ValueString()+")")
}

// setSubnet copies s into m. Allocation pools are kept out of the state
// while the configuration has none and the subnet has Neutron's default
// pool (an import included), so neither a plain create nor an import shows
// a diff.
func setSubnet(m *subnetModel, s *subnets.Subnet) {
	m.ID = types.StringValue(s.ID)
	m.NetworkID = types.StringValue(s.NetworkID)
	m.CIDR = types.StringValue(s.CIDR)
	m.Name = types.StringValue(s.Name)
	m.Description = types.StringValue(s.Description)
	m.IPVersion = types.Int64Value(int64(s.IPVersion))
	m.GatewayIP = types.StringValue(s.GatewayIP)
	m.NoGateway = types.BoolValue(s.GatewayIP == "")
	m.EnableDHCP = types.BoolValue(s.EnableDHCP)
	m.DNSNameservers = tfutil.ListOf(s.DNSNameservers)
	m.TenantID = projectOf(s.ProjectID, s.TenantID)
	var got []poolModel
	for _, p := range s.AllocationPools {
		got = append(got, poolModel{Start: types.StringValue(p.Start), End: types.StringValue(p.End)})
	}
	if len(m.AllocationPools) > 0 || !isDefaultPool(s) {
		m.AllocationPools = got
	} else {
		m.AllocationPools = nil
	}
}

// isDefaultPool reports whether s has the one pool Neutron gives a subnet
// created without pools.
func isDefaultPool(s *subnets.Subnet) bool {
	want := defaultPools(s.CIDR, s.GatewayIP)
	if want == nil || len(want) != len(s.AllocationPools) {
		return false
	}
	for i := range want {
		if want[i] != s.AllocationPools[i] {
			return false
		}
	}
	return true
}

// defaultPools is the pool Neutron gives a subnet of cidr created without
// pools: every host address except the gateway (and, for IPv4, the
// broadcast address), split around the gateway. It is nil for a bad cidr.
func defaultPools(cidr, gatewayIP string) []subnets.AllocationPool {
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil
	}
	first := prefix.Masked().Addr().Next()
	last := lastAddr(prefix)
	if prefix.Addr().Is4() {
		last = last.Prev()
	}
	gw, err := netip.ParseAddr(gatewayIP)
	if err != nil || !prefix.Contains(gw) {
		return []subnets.AllocationPool{{Start: first.String(), End: last.String()}}
	}
	var want []subnets.AllocationPool
	if gw != first {
		want = append(want, subnets.AllocationPool{Start: first.String(), End: gw.Prev().String()})
	}
	if gw != last {
		want = append(want, subnets.AllocationPool{Start: gw.Next().String(), End: last.String()})
	}
	return want
}

// firstHost is the first host address of cidr, Neutron's default gateway.
func firstHost(cidr string) string {
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil {
		return ""
	}
	return prefix.Masked().Addr().Next().String()
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// cidrValidator requires a valid CIDR without host bits.
type cidrValidator struct{}

func (cidrValidator) Description(context.Context) string { return "must be a CIDR such as 10.0.0.0/24" }
func (v cidrValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}
func (v cidrValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	p, err := netip.ParsePrefix(req.ConfigValue.ValueString())
	switch {
	case err != nil:
		resp.Diagnostics.AddAttributeError(req.Path, "invalid CIDR", v.Description(ctx)+": "+err.Error())
	case p != p.Masked():
		// Neutron would store the network address, so the state would
		// never match the configuration.
		resp.Diagnostics.AddAttributeError(req.Path, "invalid CIDR",
			fmt.Sprintf("%s: %s has host bits set; the network is %s", v.Description(ctx), p, p.Masked()))
	}
}
