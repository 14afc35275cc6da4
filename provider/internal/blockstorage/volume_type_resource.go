package blockstorage

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*volumeTypeResource)(nil)
	_ resource.ResourceWithImportState = (*volumeTypeResource)(nil)
)

// NewVolumeTypeResource is stratus_blockstorage_volume_type
// (openstack_blockstorage_volume_type_v3).
func NewVolumeTypeResource() resource.Resource { return &volumeTypeResource{} }

type volumeTypeResource struct{ tfutil.ResourceBase }

type volumeTypeModel struct {
	ID          types.String   `tfsdk:"id"`
	Name        types.String   `tfsdk:"name"`
	Description types.String   `tfsdk:"description"`
	IsPublic    types.Bool     `tfsdk:"is_public"`
	ExtraSpecs  types.Map      `tfsdk:"extra_specs"`
	Timeouts    timeouts.Value `tfsdk:"timeouts"`
}

func (r *volumeTypeResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_blockstorage_volume_type"
}

func (r *volumeTypeResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Cinder volume type (admin only): a named class of volumes with extra specs for the backend. Everything changes in place.",
		Attributes: map[string]schema.Attribute{
			"id": tfutil.IDAttribute("The volume type id."),
			"name": schema.StringAttribute{Required: true, MarkdownDescription: "Name of the type, unique; changes in place.",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 255)}},
			"description": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(""),
				MarkdownDescription: "Description of the type; changes in place."},
			"is_public": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Whether every project may use the type; changes in place. Defaults to `true`."},
			"extra_specs": schema.MapAttribute{ElementType: types.StringType, Optional: true, Computed: true,
				Default:             mapdefault.StaticValue(tfutil.MapOf(nil)),
				MarkdownDescription: "Extra specs of the type, such as `volume_backend_name`; changes in place."},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *volumeTypeResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan volumeTypeModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Create, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	bc := r.BlockStorage(&resp.Diagnostics)
	if bc == nil {
		return
	}
	vt, err := volumetypes.Create(ctx, bc, volumetypes.CreateOpts{
		Name: plan.Name.ValueString(), Description: plan.Description.ValueString(), IsPublic: plan.IsPublic.ValueBoolPointer(),
		ExtraSpecs: tfutil.StringMap(ctx, plan.ExtraSpecs, &resp.Diagnostics),
	}).Extract()
	if err != nil {
		resp.Diagnostics.AddError("creating Volume Type ("+plan.Name.ValueString()+")", err.Error())
		return
	}
	setVolumeType(&plan, vt)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *volumeTypeResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state volumeTypeModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	bc := r.BlockStorage(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	vt, err := volumetypes.Get(ctx, bc, state.ID.ValueString()).Extract()
	if tfutil.Gone(ctx, err, resp, "Volume Type ("+state.ID.ValueString()+")") {
		return
	}
	setVolumeType(&state, vt)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *volumeTypeResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state volumeTypeModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Update, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	bc := r.BlockStorage(&resp.Diagnostics)
	if bc == nil {
		return
	}
	id := state.ID.ValueString()
	var opts volumetypes.UpdateOpts
	if !plan.Name.Equal(state.Name) {
		opts.Name = plan.Name.ValueStringPointer()
	}
	if !plan.Description.Equal(state.Description) {
		opts.Description = plan.Description.ValueStringPointer()
	}
	if !plan.IsPublic.Equal(state.IsPublic) {
		opts.IsPublic = plan.IsPublic.ValueBoolPointer()
	}
	if opts != (volumetypes.UpdateOpts{}) {
		if _, err := volumetypes.Update(ctx, bc, id, opts).Extract(); err != nil {
			resp.Diagnostics.AddError("updating Volume Type ("+id+")", err.Error())
			return
		}
	}
	want := tfutil.StringMap(ctx, plan.ExtraSpecs, &resp.Diagnostics)
	have := tfutil.StringMap(ctx, state.ExtraSpecs, &resp.Diagnostics)
	if len(want) > 0 && !plan.ExtraSpecs.Equal(state.ExtraSpecs) {
		if _, err := volumetypes.CreateExtraSpecs(ctx, bc, id, volumetypes.ExtraSpecsOpts(want)).Extract(); err != nil {
			resp.Diagnostics.AddError("setting extra specs of Volume Type ("+id+")", err.Error())
			return
		}
	}
	for k := range have {
		if _, ok := want[k]; !ok {
			if err := volumetypes.DeleteExtraSpec(ctx, bc, id, k).ExtractErr(); err != nil {
				resp.Diagnostics.AddError("deleting extra spec "+k+" of Volume Type ("+id+")", err.Error())
				return
			}
		}
	}
	vt, err := volumetypes.Get(ctx, bc, id).Extract()
	if err != nil {
		resp.Diagnostics.AddError("reading Volume Type ("+id+")", err.Error())
		return
	}
	setVolumeType(&plan, vt)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *volumeTypeResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state volumeTypeModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, state.Timeouts.Delete, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	bc := r.BlockStorage(&resp.Diagnostics)
	if bc == nil {
		return
	}
	tfutil.Deleted(volumetypes.Delete(ctx, bc, state.ID.ValueString()).ExtractErr(), &resp.Diagnostics, "Volume Type ("+state.ID.ValueString()+")")
}

func setVolumeType(m *volumeTypeModel, vt *volumetypes.VolumeType) {
	m.ID = types.StringValue(vt.ID)
	m.Name = types.StringValue(vt.Name)
	m.Description = types.StringValue(vt.Description)
	m.IsPublic = types.BoolValue(vt.IsPublic || vt.PublicAccess)
	m.ExtraSpecs = tfutil.MapOf(vt.ExtraSpecs)
}
