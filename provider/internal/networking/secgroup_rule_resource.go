package networking

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*secgroupRuleResource)(nil)
	_ resource.ResourceWithImportState = (*secgroupRuleResource)(nil)
)

// NewSecgroupRuleResource is stratus_networking_secgroup_rule
// (openstack_networking_secgroup_rule_v2).
func NewSecgroupRuleResource() resource.Resource { return &secgroupRuleResource{} }

type secgroupRuleResource struct{ tfutil.ResourceBase }

type secgroupRuleModel struct {
	ID              types.String   `tfsdk:"id"`
	SecurityGroupID types.String   `tfsdk:"security_group_id"`
	Direction       types.String   `tfsdk:"direction"`
	Ethertype       types.String   `tfsdk:"ethertype"`
	Protocol        types.String   `tfsdk:"protocol"`
	PortRangeMin    types.Int64    `tfsdk:"port_range_min"`
	PortRangeMax    types.Int64    `tfsdk:"port_range_max"`
	RemoteIPPrefix  types.String   `tfsdk:"remote_ip_prefix"`
	RemoteGroupID   types.String   `tfsdk:"remote_group_id"`
	Description     types.String   `tfsdk:"description"`
	TenantID        types.String   `tfsdk:"tenant_id"`
	Timeouts        timeouts.Value `tfsdk:"timeouts"`
}

func (r *secgroupRuleResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_networking_secgroup_rule"
}

func (r *secgroupRuleResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	optional := func(desc string, v ...validator.String) schema.StringAttribute {
		return schema.StringAttribute{
			Optional: true, Computed: true, Default: stringdefault.StaticString(""),
			MarkdownDescription: desc + " Changing it replaces the rule.", PlanModifiers: replace, Validators: v,
		}
	}
	port := func(desc string) schema.Int64Attribute {
		return schema.Int64Attribute{
			Optional: true, Computed: true, Default: int64default.StaticInt64(0),
			MarkdownDescription: desc + " Changing it replaces the rule.",
			PlanModifiers:       []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			Validators:          []validator.Int64{int64validator.Between(0, 65535)},
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A rule of a Neutron security group, allowing traffic in one direction. " +
			"Neutron cannot change a rule, so every change replaces it. Two rules that allow the same traffic are refused by Neutron (409), " +
			"which keeps concurrent applies correct without any client-side locking.",
		Attributes: map[string]schema.Attribute{
			"id":                tfutil.IDAttribute("The rule id."),
			"security_group_id": requiredForceNew("Id of the security group the rule belongs to."),
			"direction": schema.StringAttribute{
				Required: true, MarkdownDescription: "`ingress` or `egress`. Changing it replaces the rule.", PlanModifiers: replace,
				Validators: []validator.String{stringvalidator.OneOf("ingress", "egress")},
			},
			"ethertype": schema.StringAttribute{
				Required: true, MarkdownDescription: "`IPv4` or `IPv6`. Changing it replaces the rule.", PlanModifiers: replace,
				Validators: []validator.String{stringvalidator.OneOf("IPv4", "IPv6")},
			},
			"protocol": optional("IP protocol: a name such as `tcp`, `udp`, `icmp`, or a number; any protocol when empty.",
				stringvalidator.RegexMatches(protocolRE, "must be a protocol name such as tcp, udp or icmp, or a number from 0 to 255")),
			"port_range_min": port("Lowest port (or ICMP type) allowed; any when 0."),
			"port_range_max": port("Highest port (or ICMP code) allowed; any when 0."),
			"remote_ip_prefix": optional("CIDR the traffic must come from (ingress) or go to (egress); anywhere when empty.",
				stringvalidator.ConflictsWith(path.MatchRoot("remote_group_id")), cidrValidator{}),
			"remote_group_id": optional("Security group whose ports the traffic must come from or go to."),
			"description":     optional("Description of the rule."),
			"tenant_id":       tenantAttr("rule"),
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Delete: true}),
		},
	}
}

func (r *secgroupRuleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan secgroupRuleModel
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
	rule, err := rules.Create(ctx, nc, rules.CreateOpts{
		SecGroupID:     plan.SecurityGroupID.ValueString(),
		Direction:      rules.RuleDirection(plan.Direction.ValueString()),
		EtherType:      rules.RuleEtherType(plan.Ethertype.ValueString()),
		Protocol:       rules.RuleProtocol(plan.Protocol.ValueString()),
		PortRangeMin:   int(plan.PortRangeMin.ValueInt64()),
		PortRangeMax:   int(plan.PortRangeMax.ValueInt64()),
		RemoteIPPrefix: plan.RemoteIPPrefix.ValueString(),
		RemoteGroupID:  plan.RemoteGroupID.ValueString(),
		Description:    plan.Description.ValueString(),
		ProjectID:      tfutil.Known(plan.TenantID),
	}).Extract()
	if err != nil {
		resp.Diagnostics.AddError("creating Security Group Rule in ("+plan.SecurityGroupID.ValueString()+")", err.Error())
		return
	}
	setSecgroupRule(&plan, rule)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *secgroupRuleResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state secgroupRuleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	nc := r.Network(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	rule, err := rules.Get(ctx, nc, state.ID.ValueString()).Extract()
	if tfutil.Gone(ctx, err, resp, "Security Group Rule ("+state.ID.ValueString()+")") {
		return
	}
	setSecgroupRule(&state, rule)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *secgroupRuleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	tfutil.StorePlan[secgroupRuleModel](ctx, req, resp)
}

func (r *secgroupRuleResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state secgroupRuleModel
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
	tfutil.Deleted(rules.Delete(ctx, nc, state.ID.ValueString()).ExtractErr(), &resp.Diagnostics, "Security Group Rule ("+state.ID.ValueString()+")")
}

func setSecgroupRule(m *secgroupRuleModel, r *rules.SecGroupRule) {
	m.ID = types.StringValue(r.ID)
	m.SecurityGroupID = types.StringValue(r.SecGroupID)
	m.Direction = types.StringValue(r.Direction)
	m.Ethertype = types.StringValue(r.EtherType)
	m.Protocol = types.StringValue(r.Protocol)
	m.PortRangeMin = types.Int64Value(int64(r.PortRangeMin))
	m.PortRangeMax = types.Int64Value(int64(r.PortRangeMax))
	m.RemoteIPPrefix = types.StringValue(r.RemoteIPPrefix)
	m.RemoteGroupID = types.StringValue(r.RemoteGroupID)
	m.Description = types.StringValue(r.Description)
	m.TenantID = projectOf(r.ProjectID, r.TenantID)
}
