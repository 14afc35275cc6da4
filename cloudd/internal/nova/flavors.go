package nova

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/compute"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
)

func (a *API) flavorRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/flavors", osapi.HandlerFunc(a.listFlavors))
	r.Method(http.MethodGet, "/flavors/detail", osapi.HandlerFunc(a.listFlavorsDetail))
	r.Method(http.MethodPost, "/flavors", osapi.HandlerFunc(a.createFlavor))
	r.Method(http.MethodGet, "/flavors/{id}", osapi.HandlerFunc(a.getFlavor))
	r.Method(http.MethodDelete, "/flavors/{id}", osapi.HandlerFunc(a.deleteFlavor))
	r.Method(http.MethodPost, "/flavors/{id}/action", osapi.HandlerFunc(a.flavorAction))
	r.Method(http.MethodGet, "/flavors/{id}/os-flavor-access", osapi.HandlerFunc(a.listFlavorAccess))
	r.Method(http.MethodGet, "/flavors/{id}/os-extra_specs", osapi.HandlerFunc(a.listExtraSpecs))
	r.Method(http.MethodPost, "/flavors/{id}/os-extra_specs", osapi.HandlerFunc(a.createExtraSpecs))
	r.Method(http.MethodGet, "/flavors/{id}/os-extra_specs/{key}", osapi.HandlerFunc(a.getExtraSpec))
	r.Method(http.MethodPut, "/flavors/{id}/os-extra_specs/{key}", osapi.HandlerFunc(a.updateExtraSpec))
	r.Method(http.MethodDelete, "/flavors/{id}/os-extra_specs/{key}", osapi.HandlerFunc(a.deleteExtraSpec))
}

// flavorJSON is a flavor as Nova 2.1 shows it. Nova writes a swap of 0 as
// "" before 2.75.
func flavorJSON(r *http.Request, f compute.Flavor) map[string]any {
	var swap any = ""
	if f.SwapMB > 0 {
		swap = f.SwapMB
	}
	return map[string]any{
		"id": f.ID, "name": f.Name, "vcpus": f.VCPUs, "ram": f.RAMMB, "disk": f.DiskGB, "swap": swap,
		"rxtx_factor": f.RxTxFactor, "OS-FLV-EXT-DATA:ephemeral": f.EphemeralGB,
		"OS-FLV-DISABLED:disabled": f.Disabled, "os-flavor-access:is_public": f.IsPublic,
		"links": resourceLinks(r, "/flavors/"+f.ID),
	}
}

func (a *API) listFlavors(w http.ResponseWriter, r *http.Request) error {
	return a.writeFlavors(w, r, false)
}

func (a *API) listFlavorsDetail(w http.ResponseWriter, r *http.Request) error {
	return a.writeFlavors(w, r, true)
}

func (a *API) writeFlavors(w http.ResponseWriter, r *http.Request, detail bool) error {
	filter, page, err := flavorFilter(r)
	if err != nil {
		return err
	}
	flavors, err := a.Compute.ListFlavors(r.Context(), claims(r), filter)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(flavors))
	for i, f := range flavors {
		if detail {
			out[i] = flavorJSON(r, f)
		} else {
			out[i] = map[string]any{"id": f.ID, "name": f.Name, "links": resourceLinks(r, "/flavors/"+f.ID)}
		}
	}
	body := map[string]any{"flavors": out}
	if len(flavors) > 0 {
		if links := osapi.NextLinks(r, page, len(flavors), flavors[len(flavors)-1].ID); links != nil {
			body["flavors_links"] = links
		}
	}
	osapi.WriteJSON(w, http.StatusOK, body)
	return nil
}

// flavorFilter reads Nova's flavor list query: minRam, minDisk, is_public
// (admins only; "None" means all), sort_key, sort_dir, limit and marker.
func flavorFilter(r *http.Request) (compute.FlavorFilter, osapi.Page, error) {
	q := r.URL.Query()
	page, err := osapi.ParsePage(r)
	if err != nil {
		return compute.FlavorFilter{}, page, err
	}
	if page.Limit == 0 {
		page.Limit = osapi.MaxPageSize // Nova reads limit=0 as "the default"
	}
	yes := true
	f := compute.FlavorFilter{Public: &yes, SortKey: q.Get("sort_key"), SortDir: q.Get("sort_dir"), Limit: page.Limit, Marker: page.Marker}
	for _, p := range []struct {
		name string
		into *int
	}{{"minRam", &f.MinRAMMB}, {"minDisk", &f.MinDiskGB}} {
		if s := q.Get(p.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return f, page, osapi.Errorf(http.StatusBadRequest, "Invalid %s filter [%s]", p.name, s)
			}
			*p.into = n
		}
	}
	if s := q.Get("is_public"); s != "" {
		if strings.EqualFold(s, "none") {
			f.Public = nil
		} else if b, ok := parseBool(s); ok {
			f.Public = &b
		} else {
			return f, page, osapi.Errorf(http.StatusBadRequest, "Invalid is_public filter [%s]", s)
		}
	}
	return f, page, nil
}

// parseBool accepts the spellings oslo's strict bool_from_string does.
func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true, true
	case "0", "f", "false", "off", "n", "no":
		return false, true
	}
	return false, false
}

func (a *API) getFlavor(w http.ResponseWriter, r *http.Request) error {
	f, err := a.Compute.GetFlavor(r.Context(), claims(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"flavor": flavorJSON(r, f)})
	return nil
}

type flavorBody struct {
	Flavor *struct {
		Name       *string  `json:"name"`
		ID         *string  `json:"id"`
		RAM        *jsonInt `json:"ram"`
		VCPUs      *jsonInt `json:"vcpus"`
		Disk       *jsonInt `json:"disk"`
		Ephemeral  *jsonInt `json:"OS-FLV-EXT-DATA:ephemeral"`
		Swap       *jsonInt `json:"swap"`
		RxTxFactor *float64 `json:"rxtx_factor"`
		IsPublic   *bool    `json:"os-flavor-access:is_public"`
	} `json:"flavor"`
}

// jsonInt is an integer that Nova's schemas also accept as a string
// ("512", "-1").
type jsonInt int

// The error becomes the body of a 400 (see osapi.DecodeJSON), so it says
// what was wrong in the client's terms.
func (n *jsonInt) UnmarshalJSON(b []byte) error {
	s := string(b)
	if unquoted, err := strconv.Unquote(s); err == nil {
		if digits := strings.TrimPrefix(unquoted, "-"); digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
			return fmt.Errorf("%s is not an integer", s)
		}
		s = unquoted
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%s is not an integer", s)
	}
	*n = jsonInt(v)
	return nil
}

// createFlavor follows Nova 2.1: name, ram, vcpus and disk are required;
// unknown fields (description is 2.55) are refused.
func (a *API) createFlavor(w http.ResponseWriter, r *http.Request) error {
	if err := policy.Authorize(claims(r), policy.Admin, "", "flavors"); err != nil {
		return err
	}
	var body flavorBody
	if err := osapi.DecodeJSON(r, &body, true); err != nil {
		return err
	}
	b := body.Flavor
	if b == nil {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute flavor: 'flavor' is a required property.")
	}
	for _, req := range []struct {
		field   string
		missing bool
	}{{"name", b.Name == nil}, {"ram", b.RAM == nil}, {"vcpus", b.VCPUs == nil}, {"disk", b.Disk == nil}} {
		if req.missing {
			return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute flavor: '%s' is a required property.", req.field)
		}
	}
	f := compute.Flavor{Name: *b.Name, RAMMB: int(*b.RAM), VCPUs: int(*b.VCPUs), DiskGB: int(*b.Disk), IsPublic: true}
	if b.ID != nil {
		f.ID = *b.ID
	}
	if b.Ephemeral != nil {
		f.EphemeralGB = int(*b.Ephemeral)
	}
	if b.Swap != nil {
		f.SwapMB = int(*b.Swap)
	}
	if b.RxTxFactor != nil {
		if *b.RxTxFactor <= 0 {
			return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute rxtx_factor. Value: %g. It must be more than 0.", *b.RxTxFactor)
		}
		f.RxTxFactor = *b.RxTxFactor
	}
	if b.IsPublic != nil {
		f.IsPublic = *b.IsPublic
	}
	f, err := a.Compute.CreateFlavor(r.Context(), claims(r), f)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"flavor": flavorJSON(r, f)})
	return nil
}

func (a *API) deleteFlavor(w http.ResponseWriter, r *http.Request) error {
	if err := a.Compute.DeleteFlavor(r.Context(), claims(r), chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// flavorAccessJSON is Nova's flavor_access list.
func flavorAccessJSON(id string, projects []string) map[string]any {
	out := make([]map[string]string, len(projects))
	for i, p := range projects {
		out[i] = map[string]string{"flavor_id": id, "tenant_id": p}
	}
	return map[string]any{"flavor_access": out}
}

func (a *API) listFlavorAccess(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	projects, err := a.Compute.FlavorAccess(r.Context(), claims(r), id)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, flavorAccessJSON(id, projects))
	return nil
}

type tenantRef struct {
	Tenant string `json:"tenant"`
}

// flavorAction runs addTenantAccess or removeTenantAccess, the only
// flavor actions Nova has.
func (a *API) flavorAction(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Add    *tenantRef `json:"addTenantAccess"`
		Remove *tenantRef `json:"removeTenantAccess"`
	}
	if err := osapi.DecodeJSON(r, &body, true); err != nil {
		return err
	}
	id := chi.URLParam(r, "id")
	var projects []string
	var err error
	switch {
	case body.Add != nil && body.Remove == nil:
		projects, err = a.Compute.AddFlavorAccess(r.Context(), claims(r), id, body.Add.Tenant)
	case body.Remove != nil && body.Add == nil:
		projects, err = a.Compute.RemoveFlavorAccess(r.Context(), claims(r), id, body.Remove.Tenant)
	default:
		err = osapi.Errorf(http.StatusBadRequest, "The action body must hold exactly one of addTenantAccess or removeTenantAccess.")
	}
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, flavorAccessJSON(id, projects))
	return nil
}

func (a *API) listExtraSpecs(w http.ResponseWriter, r *http.Request) error {
	specs, err := a.Compute.FlavorExtraSpecs(r.Context(), claims(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"extra_specs": specs})
	return nil
}

// decodeSpecs reads an extra specs object. Nova takes strings, numbers and
// booleans and stores their text; numbers keep the client's spelling and
// booleans are written as Python does.
func decodeSpecs(raw map[string]json.RawMessage) (map[string]string, error) {
	specs := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		switch text := strings.TrimSpace(string(v)); {
		case json.Unmarshal(v, &s) == nil:
		case text == "true":
			s = "True"
		case text == "false":
			s = "False"
		case json.Valid(v) && strings.Trim(text, "+-0123456789.eE") == "":
			s = text
		default:
			return nil, osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute %s: extra spec values are strings, numbers or booleans.", k)
		}
		specs[k] = s
	}
	return specs, nil
}

func (a *API) createExtraSpecs(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		ExtraSpecs map[string]json.RawMessage `json:"extra_specs"`
	}
	if err := osapi.DecodeJSON(r, &body, true); err != nil {
		return err
	}
	if body.ExtraSpecs == nil {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute extra_specs: 'extra_specs' is a required property.")
	}
	specs, err := decodeSpecs(body.ExtraSpecs)
	if err != nil {
		return err
	}
	if err := a.Compute.SetFlavorExtraSpecs(r.Context(), claims(r), chi.URLParam(r, "id"), specs); err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"extra_specs": specs})
	return nil
}

func (a *API) getExtraSpec(w http.ResponseWriter, r *http.Request) error {
	key := chi.URLParam(r, "key")
	v, err := a.Compute.FlavorExtraSpec(r.Context(), claims(r), chi.URLParam(r, "id"), key)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]string{key: v})
	return nil
}

// updateExtraSpec sets one key; the body must be {key: value} for the key
// in the URL.
func (a *API) updateExtraSpec(w http.ResponseWriter, r *http.Request) error {
	key := chi.URLParam(r, "key")
	var raw map[string]json.RawMessage
	if err := osapi.DecodeJSON(r, &raw, true); err != nil {
		return err
	}
	if len(raw) > 1 {
		return osapi.Errorf(http.StatusBadRequest, "Request body contains too many items")
	}
	if _, ok := raw[key]; !ok {
		return osapi.Errorf(http.StatusBadRequest, "Request body and URI mismatch")
	}
	specs, err := decodeSpecs(raw)
	if err != nil {
		return err
	}
	if err := a.Compute.SetFlavorExtraSpecs(r.Context(), claims(r), chi.URLParam(r, "id"), specs); err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, specs)
	return nil
}

func (a *API) deleteExtraSpec(w http.ResponseWriter, r *http.Request) error {
	if err := a.Compute.DeleteFlavorExtraSpec(r.Context(), claims(r), chi.URLParam(r, "id"), chi.URLParam(r, "key")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
