package image

import (
	"net/http"

	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Image policy, as Glance's defaults with Stratus's roles: admins act on
// every image; members of the owning project upload and modify; readers
// read; public and community images are readable by everyone, shared ones
// by their members. An image the caller cannot see does not exist for it
// (404); one it can see but not change is 403.

// checkCaller requires a project-scoped token with at least the reader
// role (or an admin one).
func checkCaller(c *token.Claims) error {
	if c == nil {
		return osapi.ErrUnauthorized
	}
	if policy.IsAdmin(c) || c.ProjectID != "" && c.Roles.Has(token.RoleReader) {
		return nil
	}
	return osapi.Errorf(http.StatusForbidden, "Policy does not allow access to images with the roles of this token.")
}

// checkCreator requires the member role (or admin) to create images.
func checkCreator(c *token.Claims) error {
	if err := checkCaller(c); err != nil {
		return err
	}
	if !policy.IsAdmin(c) && !c.Roles.Has(token.RoleMember) {
		return osapi.Errorf(http.StatusForbidden, "Policy does not allow creating images with the roles of this token.")
	}
	return nil
}

// canSee reports whether c may see img; memberStatus is c's project's
// membership of img ("" if none).
func canSee(c *token.Claims, img Image, memberStatus string) bool {
	switch {
	case policy.IsAdmin(c), img.Owner == c.ProjectID, img.Visibility == Public, img.Visibility == Community:
		return true
	}
	return img.Visibility == Shared && memberStatus != ""
}

// checkModify requires c to own img with the member role, or be admin.
// The caller has checked that c can see img.
func checkModify(c *token.Claims, img Image) error {
	if policy.IsAdmin(c) || img.Owner == c.ProjectID && c.Roles.Has(token.RoleMember) {
		return nil
	}
	return osapi.Errorf(http.StatusForbidden, "You are not permitted to modify image %s.", img.ID)
}

func notFound(id string) error {
	return osapi.Errorf(http.StatusNotFound, "No image found with ID %s.", id)
}
