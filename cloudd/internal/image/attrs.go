package image

import (
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/stratus-cloud/stratus/cloudd/internal/image/format"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Limits, as Glance's defaults (image_property_quota, image_tag_quota,
// image_member_quota).
const (
	maxProperties = 128
	maxTags       = 128
	maxMembers    = 128
	maxNameLen    = 255
	maxValueLen   = 65535
)

// containerFormats are the container_format values Glance accepts.
var containerFormats = []string{"ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"}

// readOnly attributes are computed by the service; writing one is 403.
var readOnly = []string{"id", "status", "checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size",
	"created_at", "updated_at", "self", "file", "schema", "direct_url"}

// reserved names belong to Glance features Stratus does not offer (image
// locations, soft deletion, stores) or to Glance's own os_glance_*
// namespace; writing one is 403, as in Glance.
var reserved = []string{"location", "locations", "deleted", "deleted_at", "stores"}

// baseAttrs are the writable attributes every image has; any other name
// is a free-form string property.
var baseAttrs = []string{"name", "visibility", "protected", "os_hidden", "tags", "disk_format",
	"container_format", "min_disk", "min_ram", "owner"}

// isBaseAttr reports whether name is a writable image attribute rather
// than a property.
func isBaseAttr(name string) bool { return slices.Contains(baseAttrs, name) }

// CheckWritable refuses names a client may not set: read-only attributes
// and reserved names are 403, as Glance answers.
func CheckWritable(name string) error {
	if slices.Contains(readOnly, name) {
		return osapi.Errorf(http.StatusForbidden, "Attribute '%s' is read-only.", name)
	}
	if slices.Contains(reserved, name) || strings.HasPrefix(name, "os_glance") {
		return osapi.Errorf(http.StatusForbidden, "Attribute '%s' is reserved.", name)
	}
	return nil
}

// checkProperty validates one free-form property.
func checkProperty(key, value string) error {
	if err := CheckWritable(key); err != nil {
		return err
	}
	switch {
	case isBaseAttr(key):
		return osapi.Errorf(http.StatusBadRequest, "'%s' is an image attribute, not a property.", key)
	case key == "" || len(key) > maxNameLen:
		return osapi.Errorf(http.StatusBadRequest, "Property names must be 1 to %d characters long.", maxNameLen)
	case len(value) > maxValueLen:
		return osapi.Errorf(http.StatusBadRequest, "The value of property '%s' is longer than %d characters.", key, maxValueLen)
	}
	return nil
}

func checkProperties(props map[string]string) error {
	if len(props) > maxProperties {
		return osapi.Errorf(http.StatusRequestEntityTooLarge, "Attempted to add more properties than allowed: at most %d.", maxProperties)
	}
	for k, v := range props {
		if err := checkProperty(k, v); err != nil {
			return err
		}
	}
	return nil
}

// cleanTags validates tags and drops duplicates, keeping the first of each.
func cleanTags(tags []string) ([]string, error) {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if t == "" || len(t) > maxNameLen {
			return nil, osapi.Errorf(http.StatusBadRequest, "Tags must be 1 to %d characters long.", maxNameLen)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return nil, osapi.Errorf(http.StatusRequestEntityTooLarge, "Attempted to add more tags than allowed: at most %d.", maxTags)
	}
	return out, nil
}

func checkName(name string) error {
	if len(name) > maxNameLen {
		return osapi.Errorf(http.StatusBadRequest, "Invalid value for 'name': at most %d characters.", maxNameLen)
	}
	return nil
}

func checkDiskFormat(v string) error {
	if v != "" && !format.KnownDiskFormat(v) {
		return osapi.Errorf(http.StatusBadRequest, "Invalid value '%s' for 'disk_format': must be one of %s.",
			v, strings.Join(format.DiskFormats, ", "))
	}
	return nil
}

func checkContainerFormat(v string) error {
	if v != "" && !slices.Contains(containerFormats, v) {
		return osapi.Errorf(http.StatusBadRequest, "Invalid value '%s' for 'container_format': must be one of %s.",
			v, strings.Join(containerFormats, ", "))
	}
	return nil
}

// checkVisibility validates v and applies Glance's publicize_image rule:
// only admins make images public.
func checkVisibility(c *token.Claims, v string) error {
	switch v {
	case Private, Shared, Community:
		return nil
	case Public:
		if !policy.IsAdmin(c) {
			return osapi.Errorf(http.StatusForbidden, "Policy doesn't allow publicize_image to be performed: only admins make images public.")
		}
		return nil
	}
	return osapi.Errorf(http.StatusBadRequest, "Invalid value '%s' for 'visibility': must be one of private, shared, community, public.", v)
}

func checkMinimum(attr string, v int) error {
	if v < 0 {
		return osapi.Errorf(http.StatusBadRequest, "Invalid value for '%s': it must be 0 or more.", attr)
	}
	return nil
}

// canonicalID checks a client-chosen image id: Glance ids are UUIDs.
func canonicalID(id string) (string, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return "", osapi.Errorf(http.StatusBadRequest, "Invalid value '%s' for 'id': it must be a UUID.", id)
	}
	return u.String(), nil
}
