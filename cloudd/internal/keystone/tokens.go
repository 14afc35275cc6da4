package keystone

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/stratus-cloud/stratus/cloudd/internal/identity"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

type domainRefJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type refJSON struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	Password string         `json:"password"`
	Domain   *domainRefJSON `json:"domain"`
}

func (j *refJSON) ref() identity.UserRef {
	if j == nil {
		return identity.UserRef{}
	}
	ref := identity.UserRef{ID: j.ID, Name: j.Name}
	if j.Domain != nil {
		ref.DomainID, ref.DomainName = j.Domain.ID, j.Domain.Name
	}
	return ref
}

type authBody struct {
	Auth *struct {
		Identity *struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User *refJSON `json:"user"`
			} `json:"password"`
			Token *struct {
				ID string `json:"id"`
			} `json:"token"`
			AppCred *struct {
				ID     string   `json:"id"`
				Name   string   `json:"name"`
				Secret string   `json:"secret"`
				User   *refJSON `json:"user"`
			} `json:"application_credential"`
		} `json:"identity"`
		Scope json.RawMessage `json:"scope"`
	} `json:"auth"`
}

// decodeAuth turns a Keystone auth body into an identity.AuthRequest.
func decodeAuth(r *http.Request) (identity.AuthRequest, error) {
	var body authBody
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return identity.AuthRequest{}, err
	}
	if body.Auth == nil || body.Auth.Identity == nil {
		return identity.AuthRequest{}, osapi.Errorf(http.StatusBadRequest, "Invalid input for field 'auth': 'identity' is a required property.")
	}
	id := body.Auth.Identity
	req := identity.AuthRequest{Methods: id.Methods}
	if len(req.Methods) == 0 {
		return req, osapi.Errorf(http.StatusBadRequest, "Invalid input for field 'identity': 'methods' is a required property.")
	}
	switch req.Methods[0] {
	case "password":
		if id.Password == nil || id.Password.User == nil {
			return req, osapi.Errorf(http.StatusBadRequest, "Invalid input for field 'identity/password': 'user' is a required property.")
		}
		req.PasswordUser, req.Password = id.Password.User.ref(), id.Password.User.Password
	case "token":
		if id.Token == nil || id.Token.ID == "" {
			return req, osapi.Errorf(http.StatusBadRequest, "Invalid input for field 'identity/token': 'id' is a required property.")
		}
		req.Token = id.Token.ID
	case "application_credential":
		ac := id.AppCred
		if ac == nil || ac.Secret == "" || (ac.ID == "" && ac.Name == "") {
			return req, osapi.Errorf(http.StatusBadRequest, "Invalid input for field 'identity/application_credential': 'secret' and 'id' (or 'name' with 'user') are required.")
		}
		req.AppCredID, req.AppCredName, req.AppCredSecret, req.AppCredUser = ac.ID, ac.Name, ac.Secret, ac.User.ref()
	}
	return req, decodeScope(body.Auth.Scope, &req)
}

func decodeScope(raw json.RawMessage, req *identity.AuthRequest) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var word string
	if json.Unmarshal(raw, &word) == nil {
		if word != "unscoped" {
			return osapi.Errorf(http.StatusBadRequest, "Invalid input for field 'scope': %q is not 'unscoped' or an object.", word)
		}
		req.Unscoped = true
		return nil
	}
	var scope struct {
		Project *refJSON        `json:"project"`
		Domain  json.RawMessage `json:"domain"`
		System  json.RawMessage `json:"system"`
	}
	if err := json.Unmarshal(raw, &scope); err != nil {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field 'scope': must be an object.")
	}
	switch {
	case scope.Project != nil:
		ref := scope.Project.ref()
		req.Scope = &ref
	case scope.Domain != nil || scope.System != nil:
		return osapi.Errorf(http.StatusUnauthorized, "Stratus supports project-scoped and unscoped tokens only.")
	}
	return nil
}

func (a *API) issueToken(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeAuth(r)
	if err != nil {
		return err
	}
	info, err := a.ID.Authenticate(r.Context(), req)
	if err != nil {
		return err
	}
	if r.URL.Query().Has("nocatalog") {
		info.Catalog = nil
	}
	w.Header().Set("X-Subject-Token", info.ID)
	osapi.WriteJSON(w, http.StatusCreated, map[string]any{"token": tokenJSON(r, info)})
	return nil
}

func (a *API) validateToken(w http.ResponseWriter, r *http.Request) error {
	subject := r.Header.Get("X-Subject-Token")
	if subject == "" {
		return osapi.Errorf(http.StatusBadRequest, "X-Subject-Token header is required.")
	}
	c := claims(r)
	// Anyone may check their own token; checking others' is for services.
	if subject != r.Header.Get("X-Auth-Token") && !policy.IsAdmin(c) && !c.Roles.Has(token.RoleService) {
		return osapi.Errorf(http.StatusForbidden, "Only admin or service users may validate other users' tokens.")
	}
	info, err := a.ID.Validate(r.Context(), subject, !r.URL.Query().Has("nocatalog"))
	if err != nil {
		return err
	}
	w.Header().Set("X-Subject-Token", subject)
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"token": tokenJSON(r, info)})
	return nil
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) error {
	subject := r.Header.Get("X-Subject-Token")
	if subject == "" {
		return osapi.Errorf(http.StatusBadRequest, "X-Subject-Token header is required.")
	}
	if subject != r.Header.Get("X-Auth-Token") {
		if err := requireAdmin(r, "other users' tokens"); err != nil {
			return err
		}
	}
	if err := a.ID.RevokeToken(r.Context(), subject); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) authCatalog(w http.ResponseWriter, r *http.Request) error {
	if claims(r).ProjectID == "" {
		return osapi.Errorf(http.StatusForbidden, "An unscoped token has no catalog; scope it to a project.")
	}
	catalog, err := a.ID.Catalog(r.Context())
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"catalog": catalogJSON(catalog, claims(r).ProjectID), "links": links(r)})
	return nil
}

func (a *API) authProjects(w http.ResponseWriter, r *http.Request) error {
	enabled := true
	projects, err := a.ID.ListProjects(r.Context(), identity.ProjectFilter{UserID: claims(r).UserID, Enabled: &enabled})
	if err != nil {
		return err
	}
	return writeProjects(w, r, projects)
}

func (a *API) revocationEvents(w http.ResponseWriter, r *http.Request) error {
	c := claims(r)
	if !policy.IsAdmin(c) && !c.Roles.Has(token.RoleService) {
		return osapi.Errorf(http.StatusForbidden, "Only admin or service users may list revocation events.")
	}
	events, err := a.ID.Revocations(r.Context())
	if err != nil {
		return err
	}
	out := make([]map[string]string, len(events))
	for i, e := range events {
		ev := map[string]string{"issued_before": formatTime(e.IssuedBefore)}
		for k, v := range map[string]string{"audit_id": e.AuditID, "audit_chain_id": e.AuditChainID, "user_id": e.UserID,
			"project_id": e.ProjectID, "OS-STRATUS:application_credential_id": e.AppCredID} {
			if v != "" {
				ev[k] = v
			}
		}
		out[i] = ev
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"events": out})
	return nil
}

// tokenKeys hands services the public keys that verify tokens, so they
// check tokens themselves (internal/authn) instead of calling identity per
// request. Public keys are not secret; listing them still takes an admin or
// service token, like OS-REVOKE.
func (a *API) tokenKeys(w http.ResponseWriter, r *http.Request) error {
	c := claims(r)
	if !policy.IsAdmin(c) && !c.Roles.Has(token.RoleService) {
		return osapi.Errorf(http.StatusForbidden, "Only admin or service users may list token keys.")
	}
	keys := a.ID.Keys.PublicKeys()
	out := make([]map[string]any, 0, len(keys))
	for id, pub := range keys {
		out = append(out, map[string]any{"id": id, "algorithm": "Ed25519", "public_key": base64.StdEncoding.EncodeToString(pub)})
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"token_keys": out})
	return nil
}

func tokenJSON(r *http.Request, info identity.TokenInfo) map[string]any {
	c := info.Claims
	audit := []string{c.AuditID}
	if c.AuditChainID != c.AuditID {
		audit = append(audit, c.AuditChainID)
	}
	t := map[string]any{
		"methods":    c.Methods.Names(),
		"user":       map[string]any{"id": info.User.ID, "name": info.User.Name, "domain": domainRef(), "password_expires_at": nil},
		"audit_ids":  audit,
		"expires_at": formatTime(c.ExpiresAt),
		"issued_at":  formatTime(c.IssuedAt),
	}
	if info.Project != nil {
		t["project"] = map[string]any{"id": info.Project.ID, "name": info.Project.Name, "domain": domainRef()}
		t["is_domain"] = false
		roles := make([]map[string]string, len(info.Roles))
		for i, role := range info.Roles {
			roles[i] = map[string]string{"id": role.ID, "name": role.Name}
		}
		t["roles"] = roles
		if info.Catalog != nil {
			t["catalog"] = catalogJSON(info.Catalog, info.Project.ID)
		}
	}
	if ac := info.AppCred; ac != nil {
		t["application_credential"] = map[string]any{"id": ac.ID, "name": ac.Name, "restricted": !ac.Unrestricted}
	}
	return t
}

// catalogJSON renders the catalog, filling in the project id where an
// endpoint URL asks for it, as Keystone does ("/volume/v3/$(project_id)s").
func catalogJSON(services []identity.CatalogService, projectID string) []map[string]any {
	fill := strings.NewReplacer("$(project_id)s", projectID, "%(project_id)s", projectID, "$(tenant_id)s", projectID, "%(tenant_id)s", projectID)
	out := make([]map[string]any, len(services))
	for i, s := range services {
		endpoints := make([]map[string]string, len(s.Endpoints))
		for j, e := range s.Endpoints {
			endpoints[j] = map[string]string{"id": e.ID, "interface": e.Interface, "region": e.RegionID, "region_id": e.RegionID, "url": fill.Replace(e.URL)}
		}
		out[i] = map[string]any{"id": s.ID, "type": s.Type, "name": s.Name, "endpoints": endpoints}
	}
	return out
}
