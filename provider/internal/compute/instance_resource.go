package compute

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/secgroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/stratus-cloud/stratus/provider/internal/client"
	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*instanceResource)(nil)
	_ resource.ResourceWithImportState = (*instanceResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*instanceResource)(nil)
)

// instanceTimeout is terraform-provider-openstack's default for instances.
const instanceTimeout = 30 * time.Minute

// pollInterval is how often a waiting instance is looked at.
var pollInterval = time.Second

// NewInstanceResource is stratus_compute_instance (openstack_compute_instance_v2).
func NewInstanceResource() resource.Resource { return &instanceResource{} }

type instanceResource struct{ tfutil.ResourceBase }

type instanceModel struct {
	ID                types.String           `tfsdk:"id"`
	Name              types.String           `tfsdk:"name"`
	ImageID           types.String           `tfsdk:"image_id"`
	ImageName         types.String           `tfsdk:"image_name"`
	FlavorID          types.String           `tfsdk:"flavor_id"`
	FlavorName        types.String           `tfsdk:"flavor_name"`
	KeyPair           types.String           `tfsdk:"key_pair"`
	UserData          types.String           `tfsdk:"user_data"`
	Metadata          types.Map              `tfsdk:"metadata"`
	AvailabilityZone  types.String           `tfsdk:"availability_zone"`
	PowerState        types.String           `tfsdk:"power_state"`
	StopBeforeDestroy types.Bool             `tfsdk:"stop_before_destroy"`
	Status            types.String           `tfsdk:"status"`
	HostID            types.String           `tfsdk:"host_id"`
	Created           types.String           `tfsdk:"created"`
	Updated           types.String           `tfsdk:"updated"`
	SchedulerHints    types.List             `tfsdk:"scheduler_hints"`
	Network           []instanceNetworkModel `tfsdk:"network"`
	BlockDevice       []blockDeviceModel     `tfsdk:"block_device"`
	AccessIPv4        types.String           `tfsdk:"access_ip_v4"`
	SecurityGroups    types.Set              `tfsdk:"security_groups"`
	Timeouts          timeouts.Value         `tfsdk:"timeouts"`
}

type schedulerHintsModel struct {
	Group         types.String `tfsdk:"group"`
	SameHost      types.List   `tfsdk:"same_host"`
	DifferentHost types.List   `tfsdk:"different_host"`
}

var schedulerHintsType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"group":          types.StringType,
	"same_host":      types.ListType{ElemType: types.StringType},
	"different_host": types.ListType{ElemType: types.StringType},
}}

func (r *instanceResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_compute_instance"
}

func (r *instanceResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	replaceKeep := []planmodifier.String{stringplanmodifier.RequiresReplace(), stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Nova server. Create waits until it is `ACTIVE` (and stopped, for `power_state = \"shutoff\"`). " +
			"The name, metadata, power state and flavor (by a resize, confirmed automatically) change in place; " +
			"the image, key pair, user data, availability zone, scheduler hints, networks and block devices cannot change without a rebuild, so they replace the server. " +
			"Create saves the server's id before it waits, so a build that fails leaves a tainted server in the state rather than an orphan.",
		Attributes: map[string]schema.Attribute{
			"id": tfutil.IDAttribute("The server id."),
			"name": schema.StringAttribute{
				Required: true, MarkdownDescription: "Name of the server; changes in place.",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 255)},
			},
			"image_id": schema.StringAttribute{
				Optional: true, Computed: true, PlanModifiers: replaceKeep,
				MarkdownDescription: "Id of the image to boot. Set `image_id` or `image_name`, unless a `block_device` with `boot_index = 0` is the root disk.",
				Validators:          []validator.String{stringvalidator.ConflictsWith(path.MatchRoot("image_name"))},
			},
			"image_name": schema.StringAttribute{
				Optional: true, Computed: true, PlanModifiers: replaceKeep,
				MarkdownDescription: "Name of the image to boot, looked up when the server is created. A later image with the same name does not replace the server.",
			},
			"flavor_id": schema.StringAttribute{
				Optional: true, Computed: true, PlanModifiers: keep,
				MarkdownDescription: "Id of the flavor. Changing it resizes the server in place. Exactly one of `flavor_id` and `flavor_name` must be set.",
				Validators:          []validator.String{stringvalidator.ExactlyOneOf(path.MatchRoot("flavor_id"), path.MatchRoot("flavor_name"))},
			},
			"flavor_name": schema.StringAttribute{
				Optional: true, Computed: true, PlanModifiers: keep,
				MarkdownDescription: "Name of the flavor. Changing it resizes the server in place.",
			},
			"key_pair": schema.StringAttribute{
				Optional: true, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				MarkdownDescription: "Name of the key pair whose public key the server gets in its config drive.",
			},
			"user_data": schema.StringAttribute{
				Optional: true, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				MarkdownDescription: "User data (for example a cloud-init script) given to the server in its config drive. " +
					"Nova does not return it, so it is not read back: an import leaves it empty.",
			},
			"metadata": schema.MapAttribute{
				ElementType: types.StringType, Optional: true, Computed: true,
				Default:             mapdefault.StaticValue(tfutil.MapOf(nil)),
				MarkdownDescription: "Key/value metadata of the server; changes in place. Defaults to none.",
			},
			"availability_zone": schema.StringAttribute{
				Optional: true, Computed: true, PlanModifiers: replaceKeep,
				MarkdownDescription: "Availability zone to place the server in; chosen by the scheduler when not set.",
			},
			"power_state": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString("active"),
				MarkdownDescription: "Wanted power state: `active` (running) or `shutoff` (stopped); changes in place with os-start and os-stop. Defaults to `active`.",
				Validators:          []validator.String{stringvalidator.OneOf("active", "shutoff")},
			},
			"stop_before_destroy": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Stop the server (a clean shutdown) before deleting it. Defaults to `false`.",
			},
			"status": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				MarkdownDescription: "Nova status of the server, such as `ACTIVE`, `SHUTOFF` or `ERROR`.",
			},
			"host_id": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				MarkdownDescription: "Opaque id of the host the server runs on, the same for servers of one project on one host.",
			},
			"created": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				MarkdownDescription: "When the server was created (RFC 3339).",
			},
			"security_groups": schema.SetAttribute{
				ElementType: types.StringType, Optional: true, Computed: true,
				PlanModifiers: []planmodifier.Set{setplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "Names of the security groups of the ports Nova creates for the server; the project's `default` when not set. " +
					"At creation, ports given in `network { port }` keep their own groups (set them on `stratus_networking_port`). " +
					"Changing the set updates the server in place with Nova's `addSecurityGroup` and `removeSecurityGroup` actions, " +
					"which add or remove a group on every port of the server, those given in `network { port }` included. " +
					"An import reads the groups of every port; the first apply after it only adds groups, so ports given by id keep theirs.",
			},
			"access_ip_v4": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				MarkdownDescription: "The server's IPv4 address to reach it by: the server's `accessIPv4`, else the fixed IPv4 of its first NIC.",
			},
			"updated": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "When the server last changed (RFC 3339).",
			},
		},
		Blocks: map[string]schema.Block{
			"scheduler_hints": schema.ListNestedBlock{
				MarkdownDescription: "Hints for the scheduler; changing them replaces the server.",
				PlanModifiers:       []planmodifier.List{listplanmodifier.RequiresReplace()},
				Validators:          []validator.List{listvalidator.SizeAtMost(1)},
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"group": schema.StringAttribute{
							Optional:            true,
							MarkdownDescription: "Id of a server group (`stratus_compute_servergroup`) whose policy places the server.",
						},
						"same_host": schema.ListAttribute{
							ElementType: types.StringType, Optional: true,
							MarkdownDescription: "Place the server on the host of these servers.",
						},
						"different_host": schema.ListAttribute{
							ElementType: types.StringType, Optional: true,
							MarkdownDescription: "Place the server on a host none of these servers runs on.",
						},
					},
				},
			},
			"network":      networkBlock(),
			"block_device": blockDeviceBlock(),
			"timeouts":     timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

// ModifyPlan marks the id of an image or flavor unknown when its name
// changes (and the other way round), so the plan does not keep a stale
// counterpart from state.
func (r *instanceResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	var plan, state, config instanceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	pair := func(cfgA, stateA types.String, b string) {
		if !cfgA.IsNull() && !cfgA.Equal(stateA) {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(b), types.StringUnknown())...)
		}
	}
	if config.ImageID.IsNull() {
		pair(config.ImageName, state.ImageName, "image_id")
	}
	if config.ImageName.IsNull() {
		pair(config.ImageID, state.ImageID, "image_name")
	}
	if config.FlavorID.IsNull() {
		pair(config.FlavorName, state.FlavorName, "flavor_id")
	}
	if config.FlavorName.IsNull() {
		pair(config.FlavorID, state.FlavorID, "flavor_name")
	}
	changed := !plan.FlavorID.Equal(state.FlavorID) || !plan.FlavorName.Equal(state.FlavorName) ||
		!plan.PowerState.Equal(state.PowerState) || !plan.Name.Equal(state.Name) || !plan.Metadata.Equal(state.Metadata)
	if changed {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("status"), types.StringUnknown())...)
	}
}

func (r *instanceResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan instanceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Create, instanceTimeout, &resp.Diagnostics)
	defer cancel()
	cc := r.Compute(&resp.Diagnostics)
	ic := r.Image(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	imageID, err := r.resolveImage(ctx, ic, plan)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("image_name"), "finding the image", err.Error())
		return
	}
	flavorID, err := resolveFlavor(ctx, cc, plan.FlavorID, plan.FlavorName)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("flavor_name"), "finding the flavor", err.Error())
		return
	}
	var nics []servers.Network
	if len(plan.Network) > 0 {
		nc := r.Network(&resp.Diagnostics)
		if nc == nil {
			return
		}
		if nics, err = createNetworks(ctx, nc, plan.Network); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("network"), "finding the networks", err.Error())
			return
		}
	}
	var opts servers.CreateOptsBuilder = servers.CreateOpts{
		Name:             plan.Name.ValueString(),
		ImageRef:         imageID,
		FlavorRef:        flavorID,
		UserData:         []byte(plan.UserData.ValueString()),
		Metadata:         tfutil.StringMap(ctx, plan.Metadata, &resp.Diagnostics),
		AvailabilityZone: plan.AvailabilityZone.ValueString(),
		Networks:         nics,
		BlockDevice:      blockDevices(plan.BlockDevice),
		SecurityGroups:   tfutil.Strings(ctx, plan.SecurityGroups, &resp.Diagnostics),
	}
	if kp := plan.KeyPair.ValueString(); kp != "" {
		opts = keypairs.CreateOptsExt{CreateOptsBuilder: opts, KeyName: kp}
	}
	hints := schedulerHints(ctx, plan.SchedulerHints, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	srv, err := servers.Create(ctx, cc, opts, hints).Extract()
	if err != nil {
		resp.Diagnostics.AddError("creating Instance ("+plan.Name.ValueString()+")", err.Error())
		return
	}
	// The id goes into state before waiting: if the build fails or times
	// out, Terraform knows the server (tainted) instead of orphaning it.
	id := srv.ID
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), plan.Name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("user_data"), plan.UserData)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("key_pair"), plan.KeyPair)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("scheduler_hints"), plan.SchedulerHints)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("block_device"), plan.BlockDevice)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("power_state"), plan.PowerState)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("stop_before_destroy"), plan.StopBeforeDestroy)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("timeouts"), plan.Timeouts)...)
	tflog.Debug(ctx, "waiting for instance to become ACTIVE", map[string]any{"id": id})
	if _, err := waitStatus(ctx, cc, id, "ACTIVE"); err != nil {
		resp.Diagnostics.AddError("waiting for Instance ("+id+") to become ACTIVE", err.Error())
		return
	}
	if plan.PowerState.ValueString() == "shutoff" {
		if err := setPower(ctx, cc, id, "shutoff"); err != nil {
			resp.Diagnostics.AddError("stopping Instance ("+id+")", err.Error())
			return
		}
	}
	plan.ID = types.StringValue(id)
	if !r.read(ctx, cc, ic, &plan, &resp.Diagnostics) {
		resp.Diagnostics.AddError("reading Instance ("+id+")", "the server disappeared right after it was built")
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *instanceResource) resolveImage(ctx context.Context, ic *gophercloud.ServiceClient, m instanceModel) (string, error) {
	if id := m.ImageID.ValueString(); id != "" {
		return id, nil
	}
	name := m.ImageName.ValueString()
	if name == "" {
		return "", nil // booting from a block device
	}
	page, err := images.List(ic, images.ListOpts{Name: name}).AllPages(ctx)
	if err != nil {
		return "", err
	}
	list, err := images.ExtractImages(page)
	if err != nil {
		return "", err
	}
	switch len(list) {
	case 0:
		return "", fmt.Errorf("no image is named %q", name)
	case 1:
		return list[0].ID, nil
	}
	return "", fmt.Errorf("%d images are named %q: use image_id", len(list), name)
}

func resolveFlavor(ctx context.Context, cc *gophercloud.ServiceClient, id, name types.String) (string, error) {
	if id.ValueString() != "" {
		return id.ValueString(), nil
	}
	f, err := findFlavor(ctx, cc, name.ValueString())
	if err != nil {
		return "", err
	}
	return f.ID, nil
}

// findFlavor is the one flavor named name.
func findFlavor(ctx context.Context, cc *gophercloud.ServiceClient, name string) (*flavors.Flavor, error) {
	page, err := flavors.ListDetail(cc, flavors.ListOpts{AccessType: flavors.AllAccess}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	list, err := flavors.ExtractFlavors(page)
	if err != nil {
		return nil, err
	}
	var found []flavors.Flavor
	for _, f := range list {
		if f.Name == name {
			found = append(found, f)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no flavor is named %q", name)
	case 1:
		return &found[0], nil
	}
	return nil, fmt.Errorf("%d flavors are named %q: use the id", len(found), name)
}

func schedulerHints(ctx context.Context, l types.List, diags *diag.Diagnostics) servers.SchedulerHintOptsBuilder {
	if l.IsNull() || l.IsUnknown() || len(l.Elements()) == 0 {
		return nil
	}
	var hs []schedulerHintsModel
	diags.Append(l.ElementsAs(ctx, &hs, false)...)
	if len(hs) == 0 {
		return nil
	}
	h := hs[0]
	return servers.SchedulerHintOpts{
		Group:         h.Group.ValueString(),
		SameHost:      tfutil.Strings(ctx, h.SameHost, diags),
		DifferentHost: tfutil.Strings(ctx, h.DifferentHost, diags),
	}
}

// waitStatus polls the server until its status is want, failing on ERROR.
func waitStatus(ctx context.Context, cc *gophercloud.ServiceClient, id, want string) (*servers.Server, error) {
	var srv *servers.Server
	err := tfutil.Poll(ctx, pollInterval, func() (bool, error) {
		var err error
		srv, err = servers.Get(ctx, cc, id).Extract()
		if err != nil {
			return false, err
		}
		switch {
		case srv.Status == want:
			return true, nil
		case srv.Status == "ERROR":
			msg := srv.Fault.Message
			if msg == "" {
				msg = "no fault recorded"
			}
			return false, fmt.Errorf("server went to ERROR: %s", msg)
		}
		return false, nil
	})
	return srv, err
}

// waitGone polls until the server is deleted.
func waitGone(ctx context.Context, cc *gophercloud.ServiceClient, id string) error {
	return tfutil.Poll(ctx, pollInterval, func() (bool, error) {
		srv, err := servers.Get(ctx, cc, id).Extract()
		if client.IsNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		return srv.Status == "DELETED" || srv.Status == "SOFT_DELETED", nil
	})
}

// setPower starts or stops the server and waits for the result.
func setPower(ctx context.Context, cc *gophercloud.ServiceClient, id, state string) error {
	var err error
	want := "ACTIVE"
	if state == "shutoff" {
		want = "SHUTOFF"
		err = servers.Stop(ctx, cc, id).ExtractErr()
	} else {
		err = servers.Start(ctx, cc, id).ExtractErr()
	}
	if err != nil {
		return err
	}
	_, err = waitStatus(ctx, cc, id, want)
	return err
}

// read refreshes m from the API and reports whether the server exists.
// Names of the image and flavor are looked up by id; when the lookup fails
// (deleted image, private flavor) the known name is kept rather than
// forcing a replacement.
func (r *instanceResource) read(ctx context.Context, cc, ic *gophercloud.ServiceClient, m *instanceModel, diags *diag.Diagnostics) bool {
	srv, err := servers.Get(ctx, cc, m.ID.ValueString()).Extract()
	if client.IsNotFound(err) || err == nil && (srv.Status == "DELETED" || srv.Status == "SOFT_DELETED") {
		return false
	}
	if err != nil {
		diags.AddError("reading Instance ("+m.ID.ValueString()+")", err.Error())
		return true
	}
	imported := m.Name.IsNull()
	m.Name = types.StringValue(srv.Name)
	m.Status = types.StringValue(srv.Status)
	m.HostID = types.StringValue(srv.HostID)
	m.Created = types.StringValue(srv.Created.UTC().Format(time.RFC3339))
	m.Updated = types.StringValue(srv.Updated.UTC().Format(time.RFC3339))
	m.Metadata = tfutil.MapOf(srv.Metadata)
	m.AvailabilityZone = types.StringValue(srv.AvailabilityZone)
	if srv.KeyName != "" || !m.KeyPair.IsNull() {
		m.KeyPair = types.StringValue(srv.KeyName)
	}
	switch srv.Status {
	case "ACTIVE":
		m.PowerState = types.StringValue("active")
	case "SHUTOFF":
		m.PowerState = types.StringValue("shutoff")
	}
	if m.PowerState.IsNull() || m.PowerState.IsUnknown() {
		m.PowerState = types.StringValue(strings.ToLower(srv.Status))
	}
	if m.StopBeforeDestroy.IsNull() || m.StopBeforeDestroy.IsUnknown() {
		m.StopBeforeDestroy = types.BoolValue(false)
	}
	if m.SchedulerHints.IsUnknown() {
		m.SchedulerHints = types.ListNull(schedulerHintsType)
	}

	if len(m.Network) > 0 || imported {
		r.readNetworks(ctx, srv.ID, m, imported, diags)
	}
	m.SecurityGroups = securityGroupNames(m.SecurityGroups, srv.SecurityGroups)
	m.AccessIPv4 = types.StringValue(srv.AccessIPv4)
	if srv.AccessIPv4 == "" && len(m.Network) > 0 {
		m.AccessIPv4 = m.Network[0].FixedIPv4
	}

	imageID, _ := srv.Image["id"].(string)
	if !m.ImageID.Equal(types.StringValue(imageID)) || m.ImageName.IsNull() || m.ImageName.IsUnknown() {
		m.ImageID = types.StringValue(imageID)
		if img, err := images.Get(ctx, ic, imageID).Extract(); err == nil {
			m.ImageName = types.StringValue(img.Name)
		} else if m.ImageName.IsNull() || m.ImageName.IsUnknown() {
			m.ImageName = types.StringValue("")
		}
	}
	flavorID, _ := srv.Flavor["id"].(string)
	if !m.FlavorID.Equal(types.StringValue(flavorID)) || m.FlavorName.IsNull() || m.FlavorName.IsUnknown() {
		m.FlavorID = types.StringValue(flavorID)
		if f, err := flavors.Get(ctx, cc, flavorID).Extract(); err == nil {
			m.FlavorName = types.StringValue(f.Name)
		} else if m.FlavorName.IsNull() || m.FlavorName.IsUnknown() {
			m.FlavorName = types.StringValue("")
		}
	}
	return true
}

// readNetworks fills m's network blocks from the server's ports. An
// import from a cloud without a network service has no NICs to read.
func (r *instanceResource) readNetworks(ctx context.Context, id string, m *instanceModel, imported bool, diags *diag.Diagnostics) {
	nc, err := r.Provider().Network()
	if err != nil && imported {
		return
	}
	if err != nil {
		diags.AddError("finding the network service", err.Error())
		return
	}
	cc, err := r.Provider().Compute()
	if err != nil {
		diags.AddError("finding the compute service", err.Error())
		return
	}
	nets, err := readNetworks(ctx, cc, nc, id, m.Network, imported)
	if err != nil {
		diags.AddError("reading the ports of Instance ("+id+")", err.Error())
		return
	}
	m.Network = nets
}

func (r *instanceResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state instanceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cc := r.Compute(&resp.Diagnostics)
	ic := r.Image(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if !r.read(ctx, cc, ic, &state, &resp.Diagnostics) {
		resp.State.RemoveResource(ctx)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

// ImportState imports by id and marks the server as imported (importedKey).
func (r *instanceResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	r.ResourceBase.ImportState(ctx, req, resp)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, importedKey, []byte("true"))...)
}

func (r *instanceResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state instanceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Update, instanceTimeout, &resp.Diagnostics)
	defer cancel()
	cc := r.Compute(&resp.Diagnostics)
	ic := r.Image(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.ID.ValueString()

	if !plan.Name.Equal(state.Name) {
		if _, err := servers.Update(ctx, cc, id, servers.UpdateOpts{Name: plan.Name.ValueString()}).Extract(); err != nil {
			resp.Diagnostics.AddError("renaming Instance ("+id+")", err.Error())
			return
		}
	}
	if !plan.Metadata.Equal(state.Metadata) {
		md := tfutil.StringMap(ctx, plan.Metadata, &resp.Diagnostics)
		if md == nil {
			md = map[string]string{}
		}
		if _, err := servers.ResetMetadata(ctx, cc, id, servers.MetadataOpts(md)).Extract(); err != nil {
			resp.Diagnostics.AddError("setting metadata of Instance ("+id+")", err.Error())
			return
		}
	}
	if !plan.FlavorID.Equal(state.FlavorID) || !plan.FlavorName.Equal(state.FlavorName) {
		flavorID, err := resolveFlavor(ctx, cc, plan.FlavorID, plan.FlavorName)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("flavor_name"), "finding the flavor", err.Error())
			return
		}
		if flavorID != state.FlavorID.ValueString() {
			if err := resize(ctx, cc, id, flavorID); err != nil {
				resp.Diagnostics.AddError("resizing Instance ("+id+")", err.Error())
				return
			}
		}
	}
	if !plan.SecurityGroups.IsUnknown() && !plan.SecurityGroups.Equal(state.SecurityGroups) {
		have := tfutil.Strings(ctx, state.SecurityGroups, &resp.Diagnostics)
		want := tfutil.Strings(ctx, plan.SecurityGroups, &resp.Diagnostics)
		imported, diags := req.Private.GetKey(ctx, importedKey)
		resp.Diagnostics.Append(diags...)
		if imported != nil {
			// The imported groups include those of ports passed in by id,
			// which Nova's removeSecurityGroup would strip: only add.
			have = slices.DeleteFunc(have, func(g string) bool { return !slices.Contains(want, g) })
		}
		if err := changeSecurityGroups(ctx, cc, id, have, want); err != nil {
			resp.Diagnostics.AddError("changing the security groups of Instance ("+id+")", err.Error())
			return
		}
	}
	if !plan.PowerState.Equal(state.PowerState) {
		if err := setPower(ctx, cc, id, plan.PowerState.ValueString()); err != nil {
			resp.Diagnostics.AddError("changing the power state of Instance ("+id+")", err.Error())
			return
		}
	}
	// The state now has the configured block devices and groups.
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, importedKey, nil)...)
	plan.ID = state.ID
	if !r.read(ctx, cc, ic, &plan, &resp.Diagnostics) {
		resp.Diagnostics.AddError("reading Instance ("+id+")", "the server disappeared during the update")
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// resize moves the server to flavorID and confirms the resize; the server
// keeps its power state.
func resize(ctx context.Context, cc *gophercloud.ServiceClient, id, flavorID string) error {
	if err := servers.Resize(ctx, cc, id, servers.ResizeOpts{FlavorRef: flavorID}).ExtractErr(); err != nil {
		return err
	}
	if _, err := waitStatus(ctx, cc, id, "VERIFY_RESIZE"); err != nil {
		return err
	}
	if err := servers.ConfirmResize(ctx, cc, id).ExtractErr(); err != nil {
		return err
	}
	return tfutil.Poll(ctx, pollInterval, func() (bool, error) {
		srv, err := servers.Get(ctx, cc, id).Extract()
		if err != nil {
			return false, err
		}
		if srv.Status == "ERROR" {
			return false, fmt.Errorf("server went to ERROR: %s", srv.Fault.Message)
		}
		return srv.Status == "ACTIVE" || srv.Status == "SHUTOFF", nil
	})
}

func (r *instanceResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state instanceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, state.Timeouts.Delete, instanceTimeout, &resp.Diagnostics)
	defer cancel()
	cc := r.Compute(&resp.Diagnostics)
	if cc == nil {
		return
	}
	id := state.ID.ValueString()
	if state.StopBeforeDestroy.ValueBool() {
		err := servers.Stop(ctx, cc, id).ExtractErr()
		switch {
		case client.IsNotFound(err):
			return
		case err == nil:
			if _, err := waitStatus(ctx, cc, id, "SHUTOFF"); err != nil && !client.IsNotFound(err) {
				tflog.Warn(ctx, "instance did not stop before destroy", map[string]any{"id": id, "error": err.Error()})
			}
		default:
			// Already stopped (409) or in ERROR: delete anyway.
			tflog.Debug(ctx, "stop before destroy refused", map[string]any{"id": id, "error": err.Error()})
		}
	}
	err := servers.Delete(ctx, cc, id).ExtractErr()
	if client.IsNotFound(err) {
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("deleting Instance ("+id+")", err.Error())
		return
	}
	if err := waitGone(ctx, cc, id); err != nil {
		resp.Diagnostics.AddError("waiting for Instance ("+id+") to be deleted", err.Error())
	}
}

// changeSecurityGroups adds the groups wanted that the server lacks, then
// removes the ones not wanted (adding first, so that no port is left
// without a group in between). A group already off the server is no error.
func changeSecurityGroups(ctx context.Context, cc *gophercloud.ServiceClient, id string, have, want []string) error {
	for _, g := range want {
		if !slices.Contains(have, g) {
			if err := secgroups.AddServer(ctx, cc, id, g).ExtractErr(); err != nil {
				return fmt.Errorf("adding %s: %w", g, err)
			}
		}
	}
	for _, g := range have {
		if !slices.Contains(want, g) {
			if err := secgroups.RemoveServer(ctx, cc, id, g).ExtractErr(); err != nil && !client.IsNotFound(err) {
				return fmt.Errorf("removing %s: %w", g, err)
			}
		}
	}
	return nil
}

// securityGroupNames is the set of names in a server's security_groups,
// or prior when the server has all of those: the server lists the groups
// of all its ports, and ports given by id bring their own.
func securityGroupNames(prior types.Set, groups []map[string]any) types.Set {
	var names []string
	for _, g := range groups {
		if n, ok := g["name"].(string); ok && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if prior.IsNull() || prior.IsUnknown() {
		return tfutil.SetOf(names)
	}
	for _, v := range prior.Elements() {
		if s, ok := v.(types.String); !ok || !slices.Contains(names, s.ValueString()) {
			return tfutil.SetOf(names)
		}
	}
	return prior
}
