package keystone

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/identity"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
)

func (a *API) projectRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/projects", osapi.HandlerFunc(a.listProjects))
	r.Method(http.MethodPost, "/projects", osapi.HandlerFunc(a.createProject))
	r.Method(http.MethodGet, "/projects/{id}", osapi.HandlerFunc(a.getProject))
	r.Method(http.MethodPatch, "/projects/{id}", osapi.HandlerFunc(a.updateProject))
	r.Method(http.MethodDelete, "/projects/{id}", osapi.HandlerFunc(a.deleteProject))
}

type projectBody struct {
	Project *struct {
		Name        *string   `json:"name"`
		Description *string   `json:"description"`
		Enabled     *bool     `json:"enabled"`
		Tags        *[]string `json:"tags"`
		DomainID    *string   `json:"domain_id"`
		ParentID    *string   `json:"parent_id"`
		IsDomain    *bool     `json:"is_domain"`
	} `json:"project"`
}

func decodeProject(r *http.Request) (identity.ProjectPatch, error) {
	var body projectBody
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return identity.ProjectPatch{}, err
	}
	p := body.Project
	if p == nil {
		return identity.ProjectPatch{}, osapi.Errorf(http.StatusBadRequest, "'project' is a required property.")
	}
	if p.DomainID != nil && *p.DomainID != identity.DefaultDomainID || p.ParentID != nil && *p.ParentID != identity.DefaultDomainID {
		return identity.ProjectPatch{}, osapi.Errorf(http.StatusBadRequest, "Stratus has one domain, %q, and no project hierarchy.", identity.DefaultDomainID)
	}
	if p.IsDomain != nil && *p.IsDomain {
		return identity.ProjectPatch{}, osapi.Errorf(http.StatusBadRequest, "Projects acting as domains are not supported.")
	}
	return identity.ProjectPatch{Name: p.Name, Description: p.Description, Enabled: p.Enabled, Tags: p.Tags}, nil
}

func projectJSON(r *http.Request, p identity.Project) map[string]any {
	return map[string]any{
		"id": p.ID, "name": p.Name, "description": p.Description, "enabled": p.Enabled, "tags": p.Tags,
		"domain_id": identity.DefaultDomainID, "parent_id": identity.DefaultDomainID, "is_domain": false,
		"options": map[string]any{}, "links": selfLink(r, "projects/"+p.ID),
	}
}

func writeProjects(w http.ResponseWriter, r *http.Request, projects []identity.Project) error {
	out := make([]map[string]any, len(projects))
	for i, p := range projects {
		out[i] = projectJSON(r, p)
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"projects": out, "links": links(r)})
	return nil
}

func (a *API) listProjects(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "projects"); err != nil {
		return err
	}
	if d := r.URL.Query().Get("domain_id"); d != "" && d != identity.DefaultDomainID {
		return writeProjects(w, r, nil)
	}
	projects, err := a.ID.ListProjects(r.Context(), identity.ProjectFilter{Name: r.URL.Query().Get("name"), Enabled: boolFilter(r, "enabled")})
	if err != nil {
		return err
	}
	return writeProjects(w, r, projects)
}

func (a *API) createProject(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "projects"); err != nil {
		return err
	}
	patch, err := decodeProject(r)
	if err != nil {
		return err
	}
	p := identity.Project{Enabled: true}
	if patch.Name != nil {
		p.Name = *patch.Name
	}
	if patch.Description != nil {
		p.Description = *patch.Description
	}
	if patch.Enabled != nil {
		p.Enabled = *patch.Enabled
	}
	if patch.Tags != nil {
		p.Tags = *patch.Tags
	}
	if p, err = a.ID.CreateProject(r.Context(), p); err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusCreated, map[string]any{"project": projectJSON(r, p)})
	return nil
}

// getProject lets members read their own project, as Keystone does; other
// projects are forbidden to them.
func (a *API) getProject(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	if c := claims(r); !policy.IsAdmin(c) && c.ProjectID != id {
		return requireAdmin(r, "other projects")
	}
	p, err := a.ID.GetProject(r.Context(), id)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"project": projectJSON(r, p)})
	return nil
}

func (a *API) updateProject(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "projects"); err != nil {
		return err
	}
	patch, err := decodeProject(r)
	if err != nil {
		return err
	}
	p, err := a.ID.UpdateProject(r.Context(), chi.URLParam(r, "id"), patch)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"project": projectJSON(r, p)})
	return nil
}

func (a *API) deleteProject(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "projects"); err != nil {
		return err
	}
	if err := a.ID.DeleteProject(r.Context(), chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
