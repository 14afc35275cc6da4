package networking

import (
	"context"
	"net/http"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/client"
	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*secgroupResource)(nil)
	_ resource.ResourceWithImportState = (*secgroupResource)(nil)
)

// NewSecgroupResource is stratus_networking_secgroup
// (openstack_networking_secgroup_v2).
func NewSecgroupResource() resource.Resource { return &secgroupResource{} }

type secgroupResource struct{ tfutil.ResourceBase }

type secgroupModel struct {
	ID                 types.String   `tfsdk:"id"`
	Name               types.String   `tfsdk:"name"`
	Description        types.String   `tfsdk:"description"`
	DeleteDefaultRules types.Bool     `tfsdk:"delete_default_rules"`
	TenantID           types.String   `tfsdk:"tenant_id"`
	Timeouts           timeouts.Value `tfsdk:"timeouts"`
}

// inUseRetry is how often a delete refused because ports still use the
// group is tried again: ports of deleted servers go away shortly after.
var inUseRetry = time.Second

func (r *secgroupResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_networking_secgroup"
}

func (r *secgroupResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Neutron security group: a set of allow rules (`stratus_networking_secgroup_rule`) for the ports that have it. " +
			"Neutron gives a new group rules that allow all egress; `delete_default_rules` removes them. The name and description change in place. " +
			"Delete waits while ports of servers being deleted still use the group.",
		Attributes: map[string]schema.Attribute{
			"id": tfutil.IDAttribute("The security group id."),
			"name": schema.StringAttribute{
				Required: true, MarkdownDescription: "Name of the security group; changes in place.",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 255)},
			},
			"description": descriptionAttr("security group"),
			"delete_default_rules": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Delete the egress rules Neutron adds to a new group, so that only the rules in Terraform apply. Only used on create: changing it later (or after an import) only records it. Defaults to `false`.",
			},
			"tenant_id": tenantAttr("security group"),
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Delete: true}),
		},
	}
}

func (r *secgroupResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan secgroupModel
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
	g, err := groups.Create(ctx, nc, groups.CreateOpts{
		Name: plan.Name.ValueString(), Description: plan.Description.ValueString(), TenantID: tfutil.Known(plan.TenantID),
	}).Extract()
	if err != nil {
		resp.Diagnostics.AddError("creating Security Group ("+plan.Name.ValueString()+")", err.Error())
		return
	}
	setSecgroup(&plan, g)
	// Saved before the default rules go, so a failure there leaves the
	// group known to Terraform.
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	if plan.DeleteDefaultRules.ValueBool() {
		for _, rule := range g.Rules {
			if err := rules.Delete(ctx, nc, rule.ID).ExtractErr(); err != nil && !client.IsNotFound(err) {
				resp.Diagnostics.AddError("deleting default rule "+rule.ID+" of Security Group ("+g.ID+")", err.Error())
				return
			}
		}
	}
}

func (r *secgroupResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state secgroupModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	nc := r.Network(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	g, err := groups.Get(ctx, nc, state.ID.ValueString()).Extract()
	if tfutil.Gone(ctx, err, resp, "Security Group ("+state.ID.ValueString()+")") {
		return
	}
	setSecgroup(&state, g)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *secgroupResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state secgroupModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	nc := r.Network(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	opts := groups.UpdateOpts{Name: plan.Name.ValueString()}
	if !plan.Description.Equal(state.Description) {
		opts.Description = plan.Description.ValueStringPointer()
	}
	g, err := groups.Update(ctx, nc, state.ID.ValueString(), opts).Extract()
	if err != nil {
		resp.Diagnostics.AddError("updating Security Group ("+state.ID.ValueString()+")", err.Error())
		return
	}
	setSecgroup(&plan, g)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *secgroupResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state secgroupModel
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
	id := state.ID.ValueString()
	err := tfutil.Poll(ctx, inUseRetry, func() (bool, error) {
		err := groups.Delete(ctx, nc, id).ExtractErr()
		if gophercloud.ResponseCodeIs(err, http.StatusConflict) {
			return false, nil
		}
		return true, err
	})
	tfutil.Deleted(err, &resp.Diagnostics, "Security Group ("+id+")")
}

func setSecgroup(m *secgroupModel, g *groups.SecGroup) {
	m.ID = types.StringValue(g.ID)
	m.Name = types.StringValue(g.Name)
	m.Description = types.StringValue(g.Description)
	m.TenantID = projectOf(g.ProjectID, g.TenantID)
	if m.DeleteDefaultRules.IsNull() || m.DeleteDefaultRules.IsUnknown() {
		m.DeleteDefaultRules = types.BoolValue(false)
	}
}
