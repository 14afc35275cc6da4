// Package networking holds the Neutron v2.0 resources and data sources of
// the Stratus provider: networks, subnets, ports, security groups and
// their rules, routers and their interfaces, floating IPs and their
// association with ports.
//
// Neutron applies every change in one request and reports conflicts
// itself (a rule that exists, an address in use), so these resources
// serialise nothing on the client; the one wait is a security group's
// delete, retried while a port being deleted still uses the group.
package networking

import (
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// defaultTimeout is terraform-provider-openstack's for networking
// resources.
const defaultTimeout = 10 * time.Minute

// nameAttr is an optional, updatable name; Neutron's default is "".
func nameAttr(what string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional: true, Computed: true, Default: stringdefault.StaticString(""),
		MarkdownDescription: "Name of the " + what + "; changes in place. Defaults to empty.",
	}
}

// descriptionAttr is an optional, updatable description.
func descriptionAttr(what string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional: true, Computed: true, Default: stringdefault.StaticString(""),
		MarkdownDescription: "Description of the " + what + "; changes in place. Defaults to empty.",
	}
}

// adminStateAttr is admin_state_up, true by default as in Neutron.
func adminStateAttr(what string) schema.BoolAttribute {
	return schema.BoolAttribute{
		Optional: true, Computed: true, Default: booldefault.StaticBool(true),
		MarkdownDescription: "Administrative state of the " + what + ": `false` takes it down; changes in place. Defaults to `true`.",
	}
}

// tenantAttr is the owning project: the provider's unless an admin names
// another. Neutron cannot move resources between projects.
func tenantAttr(what string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional: true, Computed: true,
		MarkdownDescription: "Project that owns the " + what + "; the provider's project when not set. Only admins may name another; changing it replaces the " + what + ".",
		PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace(), stringplanmodifier.UseStateForUnknown()},
	}
}

// requiredForceNew is a required attribute Neutron cannot update.
func requiredForceNew(desc string) schema.StringAttribute {
	return schema.StringAttribute{
		Required: true, MarkdownDescription: desc,
		PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
	}
}

func ptr[T any](v T) *T { return &v }

// projectOf is the project id Neutron reports, project_id or the older
// tenant_id.
func projectOf(projectID, tenantID string) types.String {
	if projectID != "" {
		return types.StringValue(projectID)
	}
	return types.StringValue(tenantID)
}

// protocolRE is what Neutron accepts as a rule's protocol, less `any`,
// which Neutron stores as no protocol: the state would never match it.
var protocolRE = regexp.MustCompile(`^(|ah|dccp|egp|esp|gre|hopopt|icmp|igmp|ipip|ipv6-encap|ipv6-frag|ipv6-icmp|icmpv6|ipv6-nonxt|ipv6-opts|ipv6-route|ospf|pgm|rsvp|sctp|tcp|udp|udplite|vrrp|[0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5])$`)
