// Package neutron serves the Neutron v2.0 API subset of Stratus over
// package network: it decodes requests, applies Neutron's query language
// (filters, fields, sorting, pagination, tags), reads If-Match revision
// constraints, and answers in Neutron's JSON and NeutronError bodies, so
// gophercloud, the openstack CLI and terraform-provider-openstack work
// unchanged.
package neutron

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/network"
	"github.com/stratus-cloud/stratus/internal/authn"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// API serves Neutron v2.0 at the prefix it is mounted on (/network).
type API struct {
	Network  *network.Service
	Verifier *authn.Verifier
}

// Routes returns the router for /network.
func (a *API) Routes() http.Handler {
	r := osapi.NewRouter(osapi.NeutronDialect)
	r.Method(http.MethodGet, "/", osapi.HandlerFunc(versions))
	r.Route("/v2.0", func(r chi.Router) {
		r.Use(a.Verifier.Require)
		r.Method(http.MethodGet, "/", osapi.HandlerFunc(resources))
		r.Method(http.MethodGet, "/extensions", osapi.HandlerFunc(listExtensions))
		r.Method(http.MethodGet, "/extensions/{alias}", osapi.HandlerFunc(showExtension))
		a.networkRoutes(r)
		a.portRoutes(r)
		a.securityGroupRoutes(r)
		a.routerRoutes(r)
		a.quotaRoutes(r)
		for collection := range tagCollections {
			a.tagRoutes(r, collection)
		}
	})
	return r
}

func claims(r *http.Request) *token.Claims { return policy.ClaimsFrom(r.Context()) }

func id(r *http.Request) string { return chi.URLParam(r, "id") }

func versions(w http.ResponseWriter, r *http.Request) error {
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"versions": []map[string]any{{
		"id": "v2.0", "status": "CURRENT",
		"links": []osapi.Link{{Rel: "self", Href: osapi.BaseURL(r) + "/network/v2.0/"}},
	}}})
	return nil
}

func resources(w http.ResponseWriter, r *http.Request) error {
	var out []map[string]any
	for _, c := range []string{"networks", "subnets", "ports", "security-groups", "security-group-rules", "routers", "floatingips", "quotas"} {
		out = append(out, map[string]any{"name": c, "collection": c,
			"links": []osapi.Link{{Rel: "self", Href: osapi.BaseURL(r) + "/network/v2.0/" + c}}})
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"resources": out})
	return nil
}

// decode reads {"<key>": {...}} into v and returns the inner object's raw
// fields, so handlers can tell an explicit null from an absent field.
func decode(r *http.Request, key string, v any) (map[string]json.RawMessage, error) {
	var body map[string]json.RawMessage
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return nil, err
	}
	inner, ok := body[key]
	if !ok {
		return nil, osapi.Errorf(http.StatusBadRequest, "Resource body required: the request body must hold a %q object.", key)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(inner, &fields); err != nil {
		return nil, osapi.Errorf(http.StatusBadRequest, "Invalid input: %q must be an object.", key)
	}
	if err := json.Unmarshal(inner, v); err != nil {
		return nil, osapi.Errorf(http.StatusBadRequest, "Invalid input for operation: %s", describe(err))
	}
	// Attributes Stratus does not implement are refused unless they ask
	// for nothing (null, "", false, [], {}), which clients send freely.
	known := jsonKeys(reflect.TypeOf(v).Elem())
	var unknown []string
	for k, raw := range fields {
		if !known[k] && !emptyValue(raw) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, osapi.Errorf(http.StatusBadRequest, "Unrecognized attribute(s) '%s'", strings.Join(unknown, ", "))
	}
	return fields, nil
}

// jsonKeys are the JSON field names of a struct, embedded ones included.
func jsonKeys(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			maps.Copy(out, jsonKeys(f.Type))
			continue
		}
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			out[name] = true
		}
	}
	return out
}

func emptyValue(raw json.RawMessage) bool {
	switch strings.TrimSpace(string(raw)) {
	case "null", `""`, "false", "[]", "{}":
		return true
	}
	return false
}

func describe(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf("'%s' has the wrong type (%s).", typeErr.Field, typeErr.Value)
	}
	return err.Error()
}

func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// project is the project_id (or legacy tenant_id) of a create body.
type project struct {
	ProjectID string `json:"project_id"`
	TenantID  string `json:"tenant_id"`
}

func (p project) id() string {
	if p.ProjectID != "" {
		return p.ProjectID
	}
	return p.TenantID
}

// flexInt is an integer attribute that also arrives as a numeric string
// (the openstack CLI sends "mtu": "1450"); Neutron converts both.
type flexInt struct{ v *int }

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" {
		f.v = nil
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("'%s' is not an integer", s)
	}
	f.v = &n
	return nil
}
