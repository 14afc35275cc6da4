package compute

import (
	"context"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*keypairResource)(nil)
	_ resource.ResourceWithImportState = (*keypairResource)(nil)
)

// NewKeypairResource is stratus_compute_keypair (openstack_compute_keypair_v2).
func NewKeypairResource() resource.Resource { return &keypairResource{} }

type keypairResource struct{ tfutil.ResourceBase }

type keypairModel struct {
	ID          types.String   `tfsdk:"id"`
	Name        types.String   `tfsdk:"name"`
	PublicKey   types.String   `tfsdk:"public_key"`
	PrivateKey  types.String   `tfsdk:"private_key"`
	Fingerprint types.String   `tfsdk:"fingerprint"`
	UserID      types.String   `tfsdk:"user_id"`
	Timeouts    timeouts.Value `tfsdk:"timeouts"`
}

func (r *keypairResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_compute_keypair"
}

func (r *keypairResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Nova key pair: an SSH public key that servers get in their config drive. " +
			"Import an existing public key with `public_key`, or leave it out and Nova generates the pair; " +
			"the private key is then in `private_key` (and so in the Terraform state). Key pairs cannot change, so every setting replaces it.",
		Attributes: map[string]schema.Attribute{
			"id": tfutil.IDAttribute("The key pair's name."),
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the key pair, unique per user.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 255)},
			},
			"public_key": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "OpenSSH public key to import. When not set, Nova generates a key pair.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace(), stringplanmodifier.UseStateForUnknown()},
			},
			"private_key": schema.StringAttribute{
				Computed: true, Sensitive: true, PlanModifiers: keep,
				MarkdownDescription: "The generated private key; empty when `public_key` was given or after an import (Nova returns it only once).",
			},
			"fingerprint": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				MarkdownDescription: "Fingerprint of the public key.",
			},
			"user_id": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				MarkdownDescription: "The user who owns the key pair.",
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Delete: true}),
		},
	}
}

func (r *keypairResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan keypairModel
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
	kp, err := keypairs.Create(ctx, cc, keypairs.CreateOpts{Name: plan.Name.ValueString(), PublicKey: plan.PublicKey.ValueString()}).Extract()
	if err != nil {
		resp.Diagnostics.AddError("creating Key Pair ("+plan.Name.ValueString()+")", err.Error())
		return
	}
	setKeypair(&plan, kp)
	plan.PrivateKey = types.StringValue(kp.PrivateKey)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *keypairResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state keypairModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cc := r.Compute(&resp.Diagnostics)
	if cc == nil {
		return
	}
	kp, err := keypairs.Get(ctx, cc, state.ID.ValueString(), nil).Extract()
	if tfutil.Gone(ctx, err, resp, "Key Pair ("+state.ID.ValueString()+")") {
		return
	}
	setKeypair(&state, kp)
	if state.PrivateKey.IsNull() {
		state.PrivateKey = types.StringValue("")
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *keypairResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	tfutil.StorePlan[keypairModel](ctx, req, resp)
}

func (r *keypairResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state keypairModel
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
	tfutil.Deleted(keypairs.Delete(ctx, cc, state.ID.ValueString(), nil).ExtractErr(), &resp.Diagnostics, "Key Pair ("+state.ID.ValueString()+")")
}

func setKeypair(m *keypairModel, kp *keypairs.KeyPair) {
	m.ID, m.Name = types.StringValue(kp.Name), types.StringValue(kp.Name)
	m.Fingerprint, m.UserID = types.StringValue(kp.Fingerprint), types.StringValue(kp.UserID)
	// Keep the key as written when only surrounding whitespace differs.
	if m.PublicKey.IsNull() || m.PublicKey.IsUnknown() || strings.TrimSpace(m.PublicKey.ValueString()) != strings.TrimSpace(kp.PublicKey) {
		m.PublicKey = types.StringValue(kp.PublicKey)
	}
}
