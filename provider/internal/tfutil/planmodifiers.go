package tfutil

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// UnknownWhenChanged plans a computed value as unknown when it is not
// configured and the attribute it derives from (a sibling at root) is
// planned to change, so UseStateForUnknown, listed before it, does not
// promise the old value: a floating IP's fixed_ip follows its port_id, a
// router's enable_snat its gateway.
func UnknownWhenChanged(from string) unknownWhenChanged {
	return unknownWhenChanged{from: path.Root(from)}
}

type unknownWhenChanged struct{ from path.Path }

func (m unknownWhenChanged) Description(context.Context) string {
	return "unknown when " + m.from.String() + " changes"
}

func (m unknownWhenChanged) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

// changed reports whether the value is unconfigured and m.from is
// planned to change on an existing resource.
func (m unknownWhenChanged) changed(ctx context.Context, state tfsdk.State, plan tfsdk.Plan, configured bool) bool {
	if configured || state.Raw.IsNull() || plan.Raw.IsNull() {
		return false
	}
	var planned, current attr.Value
	if plan.GetAttribute(ctx, m.from, &planned).HasError() || state.GetAttribute(ctx, m.from, &current).HasError() {
		return false
	}
	return !planned.Equal(current)
}

func (m unknownWhenChanged) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if m.changed(ctx, req.State, req.Plan, !req.ConfigValue.IsNull()) {
		resp.PlanValue = types.StringUnknown()
	}
}

func (m unknownWhenChanged) PlanModifyBool(ctx context.Context, req planmodifier.BoolRequest, resp *planmodifier.BoolResponse) {
	if m.changed(ctx, req.State, req.Plan, !req.ConfigValue.IsNull()) {
		resp.PlanValue = types.BoolUnknown()
	}
}
