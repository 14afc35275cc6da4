package keystone

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/identity"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

type appCredBody struct {
	AppCred *struct {
		Name         string  `json:"name"`
		Description  *string `json:"description"`
		Secret       *string `json:"secret"`
		ExpiresAt    *string `json:"expires_at"`
		Unrestricted bool    `json:"unrestricted"`
		Roles        []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"roles"`
		AccessRules []any `json:"access_rules"`
	} `json:"application_credential"`
}

func appCredJSON(r *http.Request, ac identity.AppCred) map[string]any {
	roles := make([]map[string]any, len(ac.Roles))
	for i, role := range ac.Roles {
		roles[i] = map[string]any{"id": role.ID, "name": role.Name, "domain_id": nil}
	}
	out := map[string]any{
		"id": ac.ID, "name": ac.Name, "description": ac.Description, "user_id": ac.UserID,
		"project_id": ac.ProjectID, "unrestricted": ac.Unrestricted, "roles": roles,
		"expires_at": nil, "access_rules": []any{},
		"links": selfLink(r, "users/"+ac.UserID+"/application_credentials/"+ac.ID),
	}
	if ac.ExpiresAt != nil {
		// Keystone writes this one time without a zone suffix.
		out["expires_at"] = ac.ExpiresAt.UTC().Format("2006-01-02T15:04:05.000000")
	}
	if ac.Secret != "" {
		out["secret"] = ac.Secret
	}
	return out
}

func (a *API) createAppCred(w http.ResponseWriter, r *http.Request) error {
	var body appCredBody
	if err := osapi.DecodeJSON(r, &body, true); err != nil {
		return err
	}
	b := body.AppCred
	if b == nil {
		return osapi.Errorf(http.StatusBadRequest, "'application_credential' is a required property.")
	}
	if len(b.AccessRules) > 0 {
		return osapi.Errorf(http.StatusBadRequest, "Access rules on application credentials are not supported by Stratus.")
	}
	req := identity.AppCredRequest{Name: b.Name, Unrestricted: b.Unrestricted}
	if b.Description != nil {
		req.Description = *b.Description
	}
	if b.Secret != nil {
		req.Secret = *b.Secret
	}
	if b.ExpiresAt != nil {
		t, err := parseTime("expires_at", *b.ExpiresAt)
		if err != nil {
			return err
		}
		req.ExpiresAt = &t
	}
	for _, role := range b.Roles {
		switch {
		case role.ID != "":
			req.RoleIDs = append(req.RoleIDs, role.ID)
		case role.Name != "":
			req.RoleNames = append(req.RoleNames, role.Name)
		default:
			return osapi.Errorf(http.StatusBadRequest, "Invalid input for field 'roles': each role needs an id or a name.")
		}
	}
	ac, err := a.ID.CreateAppCred(r.Context(), claims(r), chi.URLParam(r, "id"), req)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusCreated, map[string]any{"application_credential": appCredJSON(r, ac)})
	return nil
}

func (a *API) listAppCreds(w http.ResponseWriter, r *http.Request) error {
	user := chi.URLParam(r, "id")
	if err := selfOrAdmin(r, user, "other users' application credentials"); err != nil {
		return err
	}
	list, err := a.ID.ListAppCreds(r.Context(), user, r.URL.Query().Get("name"))
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(list))
	for i, ac := range list {
		out[i] = appCredJSON(r, ac)
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"application_credentials": out, "links": links(r)})
	return nil
}

func (a *API) getAppCred(w http.ResponseWriter, r *http.Request) error {
	user := chi.URLParam(r, "id")
	if err := selfOrAdmin(r, user, "other users' application credentials"); err != nil {
		return err
	}
	ac, err := a.ID.GetAppCred(r.Context(), user, chi.URLParam(r, "cred"))
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"application_credential": appCredJSON(r, ac)})
	return nil
}

func (a *API) deleteAppCred(w http.ResponseWriter, r *http.Request) error {
	user := chi.URLParam(r, "id")
	if err := selfOrAdmin(r, user, "other users' application credentials"); err != nil {
		return err
	}
	if err := a.ID.DeleteAppCred(r.Context(), user, chi.URLParam(r, "cred")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
