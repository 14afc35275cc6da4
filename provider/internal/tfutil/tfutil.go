// Package tfutil holds what every Stratus resource and data source shares:
// getting the client from the provider, converting between framework values
// and Go values, and polling for a state with a deadline.
package tfutil

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/client"
)

// Client returns the provider's client from ProviderData, which is nil
// before the provider is configured (validation runs then) and a
// *client.Client after.
func Client(providerData any, diags *diag.Diagnostics) *client.Client {
	if providerData == nil {
		return nil
	}
	c, ok := providerData.(*client.Client)
	if !ok {
		diags.AddError("Unexpected Provider Data Type",
			fmt.Sprintf("Expected *client.Client, got %T. Please report this issue to the provider developers.", providerData))
		return nil
	}
	return c
}

// Strings returns the elements of a list or set of strings.
func Strings(ctx context.Context, v interface {
	ElementsAs(context.Context, any, bool) diag.Diagnostics
	IsNull() bool
	IsUnknown() bool
}, diags *diag.Diagnostics) []string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	var out []string
	diags.Append(v.ElementsAs(ctx, &out, false)...)
	return out
}

// StringMap returns the elements of a map of strings.
func StringMap(ctx context.Context, v types.Map, diags *diag.Diagnostics) map[string]string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	out := map[string]string{}
	diags.Append(v.ElementsAs(ctx, &out, false)...)
	return out
}

// StorePlan is the Update of a resource whose every attribute but
// timeouts requires replacement: only a timeouts change reaches it, and
// there is nothing to send.
func StorePlan[M any](ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan M
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Known is v's value, or "" while it is unknown (a computed value the
// plan cannot know yet).
func Known(v types.String) string {
	if v.IsUnknown() {
		return ""
	}
	return v.ValueString()
}

// SetOf is a set of strings, empty (not null) for nil.
func SetOf(values []string) types.Set {
	elems := make([]attr.Value, len(values))
	for i, v := range values {
		elems[i] = types.StringValue(v)
	}
	return types.SetValueMust(types.StringType, elems)
}

// ListOf is a list of strings, empty (not null) for nil.
func ListOf(values []string) types.List {
	elems := make([]attr.Value, len(values))
	for i, v := range values {
		elems[i] = types.StringValue(v)
	}
	return types.ListValueMust(types.StringType, elems)
}

// MapOf is a map of strings, empty (not null) for nil.
func MapOf(values map[string]string) types.Map {
	elems := make(map[string]attr.Value, len(values))
	for k, v := range values {
		elems[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, elems)
}

// Poll calls check every interval until it reports done, returns an error,
// or ctx ends (the resource's timeout).
func Poll(ctx context.Context, interval time.Duration, check func() (done bool, err error)) error {
	for {
		done, err := check()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out: %w", ctx.Err())
		case <-time.After(interval):
		}
	}
}

// Timeout bounds ctx by the resource's configured timeout for one
// operation (get is a method of timeouts.Value), def when unset.
func Timeout(ctx context.Context, get func(context.Context, time.Duration) (time.Duration, diag.Diagnostics), def time.Duration, diags *diag.Diagnostics) (context.Context, context.CancelFunc) {
	d, dd := get(ctx, def)
	diags.Append(dd...)
	return context.WithTimeout(ctx, d)
}

// IDAttribute is the computed id every resource has, kept across plans.
func IDAttribute(desc string) schema.StringAttribute {
	return schema.StringAttribute{
		Computed:            true,
		MarkdownDescription: desc,
		PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
}
