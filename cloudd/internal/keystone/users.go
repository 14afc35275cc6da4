package keystone

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/identity"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

func (a *API) userRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/users", osapi.HandlerFunc(a.listUsers))
	r.Method(http.MethodPost, "/users", osapi.HandlerFunc(a.createUser))
	r.Method(http.MethodGet, "/users/{id}", osapi.HandlerFunc(a.getUser))
	r.Method(http.MethodPatch, "/users/{id}", osapi.HandlerFunc(a.updateUser))
	r.Method(http.MethodDelete, "/users/{id}", osapi.HandlerFunc(a.deleteUser))
	r.Method(http.MethodPost, "/users/{id}/password", osapi.HandlerFunc(a.changePassword))
	r.Method(http.MethodGet, "/users/{id}/projects", osapi.HandlerFunc(a.userProjects))
	r.Method(http.MethodGet, "/users/{id}/application_credentials", osapi.HandlerFunc(a.listAppCreds))
	r.Method(http.MethodPost, "/users/{id}/application_credentials", osapi.HandlerFunc(a.createAppCred))
	r.Method(http.MethodGet, "/users/{id}/application_credentials/{cred}", osapi.HandlerFunc(a.getAppCred))
	r.Method(http.MethodDelete, "/users/{id}/application_credentials/{cred}", osapi.HandlerFunc(a.deleteAppCred))
}

type userBody struct {
	User *struct {
		Name             *string `json:"name"`
		Description      *string `json:"description"`
		Email            *string `json:"email"`
		Enabled          *bool   `json:"enabled"`
		DefaultProjectID *string `json:"default_project_id"`
		Password         *string `json:"password"`
		DomainID         *string `json:"domain_id"`
	} `json:"user"`
}

func decodeUser(r *http.Request) (identity.UserPatch, error) {
	var body userBody
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return identity.UserPatch{}, err
	}
	u := body.User
	if u == nil {
		return identity.UserPatch{}, osapi.Errorf(http.StatusBadRequest, "'user' is a required property.")
	}
	if u.DomainID != nil && *u.DomainID != identity.DefaultDomainID {
		return identity.UserPatch{}, osapi.Errorf(http.StatusBadRequest, "Stratus has one domain, %q.", identity.DefaultDomainID)
	}
	return identity.UserPatch{Name: u.Name, Description: u.Description, Email: u.Email, Enabled: u.Enabled,
		DefaultProjectID: u.DefaultProjectID, Password: u.Password}, nil
}

func userJSON(r *http.Request, u identity.User) map[string]any {
	out := map[string]any{
		"id": u.ID, "name": u.Name, "domain_id": identity.DefaultDomainID, "enabled": u.Enabled,
		"description": u.Description, "password_expires_at": nil, "options": map[string]any{},
		"links": selfLink(r, "users/"+u.ID),
	}
	if u.Email != "" {
		out["email"] = u.Email
	}
	if u.DefaultProjectID != "" {
		out["default_project_id"] = u.DefaultProjectID
	}
	return out
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "users"); err != nil {
		return err
	}
	var users []identity.User
	if d := r.URL.Query().Get("domain_id"); d == "" || d == identity.DefaultDomainID {
		var err error
		if users, err = a.ID.ListUsers(r.Context(), r.URL.Query().Get("name"), boolFilter(r, "enabled")); err != nil {
			return err
		}
	}
	out := make([]map[string]any, len(users))
	for i, u := range users {
		out[i] = userJSON(r, u)
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"users": out, "links": links(r)})
	return nil
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "users"); err != nil {
		return err
	}
	patch, err := decodeUser(r)
	if err != nil {
		return err
	}
	u := identity.User{Enabled: true}
	for dst, src := range map[*string]*string{&u.Name: patch.Name, &u.Description: patch.Description,
		&u.Email: patch.Email, &u.DefaultProjectID: patch.DefaultProjectID} {
		if src != nil {
			*dst = *src
		}
	}
	if patch.Enabled != nil {
		u.Enabled = *patch.Enabled
	}
	if u.DefaultProjectID != "" {
		if _, err := a.ID.GetProject(r.Context(), u.DefaultProjectID); err != nil {
			return osapi.Errorf(http.StatusBadRequest, "Invalid input for field 'default_project_id': no project %s.", u.DefaultProjectID)
		}
	}
	password := ""
	if patch.Password != nil {
		password = *patch.Password
	}
	if u, err = a.ID.CreateUser(r.Context(), u, password); err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusCreated, map[string]any{"user": userJSON(r, u)})
	return nil
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	if err := selfOrAdmin(r, id, "other users"); err != nil {
		return err
	}
	u, err := a.ID.GetUser(r.Context(), id)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"user": userJSON(r, u)})
	return nil
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "users"); err != nil {
		return err
	}
	patch, err := decodeUser(r)
	if err != nil {
		return err
	}
	u, err := a.ID.UpdateUser(r.Context(), chi.URLParam(r, "id"), patch)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"user": userJSON(r, u)})
	return nil
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "users"); err != nil {
		return err
	}
	if err := a.ID.DeleteUser(r.Context(), chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	if claims(r).UserID != id {
		return osapi.Errorf(http.StatusForbidden, "Users can only change their own password.")
	}
	var body struct {
		User *struct {
			OriginalPassword string `json:"original_password"`
			Password         string `json:"password"`
		} `json:"user"`
	}
	if err := osapi.DecodeJSON(r, &body, true); err != nil {
		return err
	}
	if body.User == nil {
		return osapi.Errorf(http.StatusBadRequest, "'user' is a required property.")
	}
	if err := a.ID.ChangePassword(r.Context(), id, body.User.OriginalPassword, body.User.Password); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) userProjects(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	if err := selfOrAdmin(r, id, "other users' projects"); err != nil {
		return err
	}
	if _, err := a.ID.GetUser(r.Context(), id); err != nil {
		return err
	}
	projects, err := a.ID.ListProjects(r.Context(), identity.ProjectFilter{UserID: id})
	if err != nil {
		return err
	}
	return writeProjects(w, r, projects)
}
