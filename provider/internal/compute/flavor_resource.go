package compute

import (
	"context"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/client"
	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*flavorResource)(nil)
	_ resource.ResourceWithImportState = (*flavorResource)(nil)
)

// NewFlavorResource is stratus_compute_flavor (openstack_compute_flavor_v2).
func NewFlavorResource() resource.Resource { return &flavorResource{} }

type flavorResource struct{ tfutil.ResourceBase }

type flavorModel struct {
	ID         types.String   `tfsdk:"id"`
	FlavorID   types.String   `tfsdk:"flavor_id"`
	Name       types.String   `tfsdk:"name"`
	RAM        types.Int64    `tfsdk:"ram"`
	VCPUs      types.Int64    `tfsdk:"vcpus"`
	Disk       types.Int64    `tfsdk:"disk"`
	Swap       types.Int64    `tfsdk:"swap"`
	Ephemeral  types.Int64    `tfsdk:"ephemeral"`
	RxTxFactor types.Float64  `tfsdk:"rx_tx_factor"`
	IsPublic   types.Bool     `tfsdk:"is_public"`
	ExtraSpecs types.Map      `tfsdk:"extra_specs"`
	Timeouts   timeouts.Value `tfsdk:"timeouts"`
}

func (r *flavorResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_compute_flavor"
}

func (r *flavorResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replaceInt := []planmodifier.Int64{int64planmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Nova flavor: the size of a server. Requires the admin role. " +
			"Nova cannot change a flavor, so every setting but `extra_specs` replaces it.",
		Attributes: map[string]schema.Attribute{
			"id": tfutil.IDAttribute("The flavor id (same as `flavor_id`)."),
			"flavor_id": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Id to give the flavor; generated (a UUID) when not set.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace(), stringplanmodifier.UseStateForUnknown()},
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 255)},
			},
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Unique name of the flavor.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 255)},
			},
			"ram": schema.Int64Attribute{
				Required: true, MarkdownDescription: "Memory in MiB.", PlanModifiers: replaceInt,
				Validators: []validator.Int64{int64validator.AtLeast(1)},
			},
			"vcpus": schema.Int64Attribute{
				Required: true, MarkdownDescription: "Number of virtual CPUs.", PlanModifiers: replaceInt,
				Validators: []validator.Int64{int64validator.AtLeast(1)},
			},
			"disk": schema.Int64Attribute{
				Required: true, MarkdownDescription: "Root disk size in GiB; 0 means the image's size.", PlanModifiers: replaceInt,
				Validators: []validator.Int64{int64validator.AtLeast(0)},
			},
			"swap": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(0),
				MarkdownDescription: "Swap disk size in MiB. Defaults to 0.", PlanModifiers: replaceInt,
				Validators: []validator.Int64{int64validator.AtLeast(0)},
			},
			"ephemeral": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(0),
				MarkdownDescription: "Ephemeral disk size in GiB. Defaults to 0.", PlanModifiers: replaceInt,
				Validators: []validator.Int64{int64validator.AtLeast(0)},
			},
			"rx_tx_factor": schema.Float64Attribute{
				Optional: true, Computed: true, Default: float64default.StaticFloat64(1),
				MarkdownDescription: "Network bandwidth factor. Defaults to 1.",
				PlanModifiers:       []planmodifier.Float64{float64planmodifier.RequiresReplace()},
				Validators:          []validator.Float64{float64validator.AtLeast(0)},
			},
			"is_public": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Whether every project can use the flavor. Defaults to `true`.",
				PlanModifiers:       []planmodifier.Bool{boolplanmodifier.RequiresReplace()},
			},
			"extra_specs": schema.MapAttribute{
				ElementType: types.StringType, Optional: true, Computed: true,
				Default:             mapdefault.StaticValue(tfutil.MapOf(nil)),
				MarkdownDescription: "Extra specs (key/value pairs read by the scheduler and hypervisor), changed in place. Defaults to none.",
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *flavorResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan flavorModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Create, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	cc := r.Compute(&resp.Diagnostics)
	if cc == nil {
		return
	}
	disk, swap, eph := int(plan.Disk.ValueInt64()), int(plan.Swap.ValueInt64()), int(plan.Ephemeral.ValueInt64())
	f, err := flavors.Create(ctx, cc, flavors.CreateOpts{
		ID:         plan.FlavorID.ValueString(),
		Name:       plan.Name.ValueString(),
		RAM:        int(plan.RAM.ValueInt64()),
		VCPUs:      int(plan.VCPUs.ValueInt64()),
		Disk:       &disk,
		Swap:       &swap,
		Ephemeral:  &eph,
		RxTxFactor: plan.RxTxFactor.ValueFloat64(),
		IsPublic:   plan.IsPublic.ValueBoolPointer(),
	}).Extract()
	if err != nil {
		resp.Diagnostics.AddError("creating Flavor ("+plan.Name.ValueString()+")", err.Error())
		return
	}
	// Saved before the extra specs: a failure there leaves a tainted
	// flavor in state, not an orphan.
	plan.ID, plan.FlavorID = types.StringValue(f.ID), types.StringValue(f.ID)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), f.ID)...)
	specs := tfutil.StringMap(ctx, plan.ExtraSpecs, &resp.Diagnostics)
	if len(specs) > 0 {
		if _, err := flavors.CreateExtraSpecs(ctx, cc, f.ID, flavors.ExtraSpecsOpts(specs)).Extract(); err != nil {
			resp.Diagnostics.AddError("setting extra specs of Flavor ("+f.ID+")", err.Error())
			return
		}
	}
	r.read(ctx, cc, &plan, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// read refreshes m from the API; it reports whether the flavor exists.
func (r *flavorResource) read(ctx context.Context, cc *gophercloud.ServiceClient, m *flavorModel, diags *diag.Diagnostics) bool {
	f, err := flavors.Get(ctx, cc, m.ID.ValueString()).Extract()
	if client.IsNotFound(err) {
		return false
	}
	if err != nil {
		diags.AddError("reading Flavor ("+m.ID.ValueString()+")", err.Error())
		return true
	}
	specs, err := flavors.ListExtraSpecs(ctx, cc, f.ID).Extract()
	if err != nil {
		diags.AddError("reading extra specs of Flavor ("+f.ID+")", err.Error())
		return true
	}
	m.ID, m.FlavorID, m.Name = types.StringValue(f.ID), types.StringValue(f.ID), types.StringValue(f.Name)
	m.RAM, m.VCPUs, m.Disk = types.Int64Value(int64(f.RAM)), types.Int64Value(int64(f.VCPUs)), types.Int64Value(int64(f.Disk))
	m.Swap, m.Ephemeral = types.Int64Value(int64(f.Swap)), types.Int64Value(int64(f.Ephemeral))
	m.RxTxFactor, m.IsPublic = types.Float64Value(f.RxTxFactor), types.BoolValue(f.IsPublic)
	m.ExtraSpecs = tfutil.MapOf(specs)
	return true
}

func (r *flavorResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state flavorModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cc := r.Compute(&resp.Diagnostics)
	if cc == nil {
		return
	}
	if !r.read(ctx, cc, &state, &resp.Diagnostics) {
		resp.State.RemoveResource(ctx)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

// Update changes the extra specs, the only thing Nova lets change.
func (r *flavorResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state flavorModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Update, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	cc := r.Compute(&resp.Diagnostics)
	if cc == nil {
		return
	}
	id := state.ID.ValueString()
	want := tfutil.StringMap(ctx, plan.ExtraSpecs, &resp.Diagnostics)
	have := tfutil.StringMap(ctx, state.ExtraSpecs, &resp.Diagnostics)
	for k := range have {
		if _, ok := want[k]; !ok {
			if err := flavors.DeleteExtraSpec(ctx, cc, id, k).ExtractErr(); err != nil && !client.IsNotFound(err) {
				resp.Diagnostics.AddError("deleting extra spec "+k+" of Flavor ("+id+")", err.Error())
				return
			}
		}
	}
	changed := map[string]string{}
	for k, v := range want {
		if old, ok := have[k]; !ok || old != v {
			changed[k] = v
		}
	}
	if len(changed) > 0 {
		if _, err := flavors.CreateExtraSpecs(ctx, cc, id, flavors.ExtraSpecsOpts(changed)).Extract(); err != nil {
			resp.Diagnostics.AddError("setting extra specs of Flavor ("+id+")", err.Error())
			return
		}
	}
	plan.ID = state.ID
	r.read(ctx, cc, &plan, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *flavorResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state flavorModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, state.Timeouts.Delete, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	cc := r.Compute(&resp.Diagnostics)
	if cc == nil {
		return
	}
	tfutil.Deleted(flavors.Delete(ctx, cc, state.ID.ValueString()).ExtractErr(), &resp.Diagnostics, "Flavor ("+state.ID.ValueString()+")")
}
