package keystone

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/identity"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

func (a *API) roleRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/roles", osapi.HandlerFunc(a.listRoles))
	r.Method(http.MethodPost, "/roles", osapi.HandlerFunc(a.createRole))
	r.Method(http.MethodGet, "/roles/{id}", osapi.HandlerFunc(a.getRole))
	r.Method(http.MethodPatch, "/roles/{id}", osapi.HandlerFunc(a.updateRole))
	r.Method(http.MethodDelete, "/roles/{id}", osapi.HandlerFunc(a.deleteRole))
	r.Method(http.MethodGet, "/roles/{prior}/implies", osapi.HandlerFunc(a.listImplied))
	r.Method(http.MethodPut, "/roles/{prior}/implies/{implied}", osapi.HandlerFunc(a.addImplied))
	r.Method(http.MethodGet, "/roles/{prior}/implies/{implied}", osapi.HandlerFunc(a.checkImplied))
	r.Method(http.MethodHead, "/roles/{prior}/implies/{implied}", osapi.HandlerFunc(a.checkImplied))
	r.Method(http.MethodDelete, "/roles/{prior}/implies/{implied}", osapi.HandlerFunc(a.removeImplied))
	r.Method(http.MethodGet, "/role_inferences", osapi.HandlerFunc(a.listInferences))

	r.Method(http.MethodGet, "/projects/{project}/users/{user}/roles", osapi.HandlerFunc(a.listGrants))
	r.Method(http.MethodPut, "/projects/{project}/users/{user}/roles/{role}", osapi.HandlerFunc(a.grant))
	r.Method(http.MethodHead, "/projects/{project}/users/{user}/roles/{role}", osapi.HandlerFunc(a.checkGrant))
	r.Method(http.MethodGet, "/projects/{project}/users/{user}/roles/{role}", osapi.HandlerFunc(a.checkGrant))
	r.Method(http.MethodDelete, "/projects/{project}/users/{user}/roles/{role}", osapi.HandlerFunc(a.ungrant))
	r.Method(http.MethodGet, "/role_assignments", osapi.HandlerFunc(a.listAssignments))
}

func roleJSON(r *http.Request, role identity.Role) map[string]any {
	return map[string]any{"id": role.ID, "name": role.Name, "description": role.Description, "domain_id": nil,
		"options": map[string]any{}, "links": selfLink(r, "roles/"+role.ID)}
}

func writeRoles(w http.ResponseWriter, r *http.Request, roles []identity.Role) error {
	out := make([]map[string]any, len(roles))
	for i, role := range roles {
		out[i] = roleJSON(r, role)
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"roles": out, "links": links(r)})
	return nil
}

type roleBody struct {
	Role *struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
		DomainID    *string `json:"domain_id"`
	} `json:"role"`
}

func decodeRole(r *http.Request) (name, description *string, err error) {
	var body roleBody
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return nil, nil, err
	}
	if body.Role == nil {
		return nil, nil, osapi.Errorf(http.StatusBadRequest, "'role' is a required property.")
	}
	if body.Role.DomainID != nil {
		return nil, nil, osapi.Errorf(http.StatusBadRequest, "Domain-specific roles are not supported.")
	}
	return body.Role.Name, body.Role.Description, nil
}

func (a *API) listRoles(w http.ResponseWriter, r *http.Request) error {
	roles, err := a.ID.ListRoles(r.Context(), r.URL.Query().Get("name"))
	if err != nil {
		return err
	}
	return writeRoles(w, r, roles)
}

func (a *API) createRole(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "roles"); err != nil {
		return err
	}
	name, description, err := decodeRole(r)
	if err != nil {
		return err
	}
	role := identity.Role{}
	if name != nil {
		role.Name = *name
	}
	if description != nil {
		role.Description = *description
	}
	if role, err = a.ID.CreateRole(r.Context(), role); err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusCreated, map[string]any{"role": roleJSON(r, role)})
	return nil
}

func (a *API) getRole(w http.ResponseWriter, r *http.Request) error {
	role, err := a.ID.GetRole(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"role": roleJSON(r, role)})
	return nil
}

func (a *API) updateRole(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "roles"); err != nil {
		return err
	}
	name, description, err := decodeRole(r)
	if err != nil {
		return err
	}
	role, err := a.ID.UpdateRole(r.Context(), chi.URLParam(r, "id"), name, description)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"role": roleJSON(r, role)})
	return nil
}

func (a *API) deleteRole(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "roles"); err != nil {
		return err
	}
	if err := a.ID.DeleteRole(r.Context(), chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- implied roles

func refJSONOf(r *http.Request, role identity.Role) map[string]any {
	return map[string]any{"id": role.ID, "name": role.Name, "links": selfLink(r, "roles/"+role.ID)}
}

func inferenceJSON(r *http.Request, prior identity.Role, implied []identity.Role) map[string]any {
	out := make([]map[string]any, len(implied))
	for i, role := range implied {
		out[i] = refJSONOf(r, role)
	}
	return map[string]any{"prior_role": refJSONOf(r, prior), "implies": out}
}

func (a *API) listImplied(w http.ResponseWriter, r *http.Request) error {
	prior, err := a.ID.GetRole(r.Context(), chi.URLParam(r, "prior"))
	if err != nil {
		return err
	}
	all, err := a.ID.ImpliedRoles(r.Context(), prior.ID)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"role_inference": inferenceJSON(r, prior, all[prior]), "links": links(r)})
	return nil
}

func (a *API) listInferences(w http.ResponseWriter, r *http.Request) error {
	all, err := a.ID.ImpliedRoles(r.Context(), "")
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for prior, implied := range all {
		out = append(out, inferenceJSON(r, prior, implied))
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"role_inferences": out, "links": links(r)})
	return nil
}

func (a *API) addImplied(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "implied roles"); err != nil {
		return err
	}
	prior, implied := chi.URLParam(r, "prior"), chi.URLParam(r, "implied")
	if err := a.ID.AddImpliedRole(r.Context(), prior, implied); err != nil {
		return err
	}
	return a.writeImplied(w, r, prior, implied, http.StatusCreated)
}

func (a *API) checkImplied(w http.ResponseWriter, r *http.Request) error {
	prior, implied := chi.URLParam(r, "prior"), chi.URLParam(r, "implied")
	all, err := a.ID.ImpliedRoles(r.Context(), prior)
	if err != nil {
		return err
	}
	for p, list := range all {
		for _, role := range list {
			if role.ID == implied {
				if r.Method == http.MethodHead {
					w.WriteHeader(http.StatusNoContent)
					return nil
				}
				return a.writeImplied(w, r, p.ID, implied, http.StatusOK)
			}
		}
	}
	return osapi.Errorf(http.StatusNotFound, "Could not find implied role: %s implies %s.", prior, implied)
}

func (a *API) writeImplied(w http.ResponseWriter, r *http.Request, priorID, impliedID string, status int) error {
	prior, err := a.ID.GetRole(r.Context(), priorID)
	if err != nil {
		return err
	}
	implied, err := a.ID.GetRole(r.Context(), impliedID)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, status, map[string]any{"role_inference": map[string]any{
		"prior_role": refJSONOf(r, prior), "implies": refJSONOf(r, implied)}})
	return nil
}

func (a *API) removeImplied(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "implied roles"); err != nil {
		return err
	}
	if err := a.ID.RemoveImpliedRole(r.Context(), chi.URLParam(r, "prior"), chi.URLParam(r, "implied")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- assignments

func grantParts(r *http.Request) (project, user, role string) {
	return chi.URLParam(r, "project"), chi.URLParam(r, "user"), chi.URLParam(r, "role")
}

func (a *API) grant(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "role assignments"); err != nil {
		return err
	}
	project, user, role := grantParts(r)
	if err := a.ID.Grant(r.Context(), project, user, role); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) checkGrant(w http.ResponseWriter, r *http.Request) error {
	project, user, role := grantParts(r)
	if err := a.mayReadAssignments(r, project, user); err != nil {
		return err
	}
	if err := a.ID.CheckGrant(r.Context(), project, user, role); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) ungrant(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "role assignments"); err != nil {
		return err
	}
	project, user, role := grantParts(r)
	if err := a.ID.Ungrant(r.Context(), project, user, role); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listGrants(w http.ResponseWriter, r *http.Request) error {
	project, user, _ := grantParts(r)
	if err := a.mayReadAssignments(r, project, user); err != nil {
		return err
	}
	list, err := a.ID.ListAssignments(r.Context(), identity.AssignmentFilter{ProjectID: project, UserID: user})
	if err != nil {
		return err
	}
	roles := make([]identity.Role, len(list))
	for i, as := range list {
		roles[i] = identity.Role{ID: as.RoleID, Name: as.RoleName}
	}
	return writeRoles(w, r, roles)
}

// mayReadAssignments lets admins read every assignment and users read
// their own.
func (a *API) mayReadAssignments(r *http.Request, project, user string) error {
	if c := claims(r); user != "" && c.UserID == user && (project == "" || project == c.ProjectID) {
		return nil
	}
	return requireAdmin(r, "role assignments")
}

func (a *API) listAssignments(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := identity.AssignmentFilter{
		UserID: q.Get("user.id"), ProjectID: q.Get("scope.project.id"), RoleID: q.Get("role.id"),
		Effective: queryFlag(r, "effective"),
	}
	if err := a.mayReadAssignments(r, f.ProjectID, f.UserID); err != nil {
		return err
	}
	var list []identity.Assignment
	// Groups, domain and system scopes do not exist here: nothing matches them.
	if !q.Has("group.id") && !q.Has("scope.domain.id") && !q.Has("scope.system") {
		var err error
		if list, err = a.ID.ListAssignments(r.Context(), f); err != nil {
			return err
		}
	}
	withNames := queryFlag(r, "include_names")
	out := make([]map[string]any, len(list))
	for i, as := range list {
		user := map[string]any{"id": as.UserID}
		project := map[string]any{"id": as.ProjectID}
		role := map[string]any{"id": as.RoleID}
		if withNames {
			user["name"], user["domain"] = as.UserName, domainRef()
			project["name"], project["domain"] = as.ProjectName, domainRef()
			role["name"] = as.RoleName
		}
		base := osapi.BaseURL(r) + "/identity/v3/"
		assignmentRole := as.RoleID
		lnk := map[string]string{}
		if as.ImpliedBy != "" {
			assignmentRole = as.ImpliedBy
			lnk["prior_role"] = base + "roles/" + as.ImpliedBy
		}
		lnk["assignment"] = base + "projects/" + as.ProjectID + "/users/" + as.UserID + "/roles/" + assignmentRole
		out[i] = map[string]any{"user": user, "role": role, "scope": map[string]any{"project": project}, "links": lnk}
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"role_assignments": out, "links": links(r)})
	return nil
}
