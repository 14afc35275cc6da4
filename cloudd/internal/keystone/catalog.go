package keystone

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/identity"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

func (a *API) catalogRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/services", osapi.HandlerFunc(a.listServices))
	r.Method(http.MethodPost, "/services", osapi.HandlerFunc(a.createService))
	r.Method(http.MethodGet, "/services/{id}", osapi.HandlerFunc(a.getService))
	r.Method(http.MethodPatch, "/services/{id}", osapi.HandlerFunc(a.updateService))
	r.Method(http.MethodDelete, "/services/{id}", osapi.HandlerFunc(a.deleteService))
	r.Method(http.MethodGet, "/endpoints", osapi.HandlerFunc(a.listEndpoints))
	r.Method(http.MethodPost, "/endpoints", osapi.HandlerFunc(a.createEndpoint))
	r.Method(http.MethodGet, "/endpoints/{id}", osapi.HandlerFunc(a.getEndpoint))
	r.Method(http.MethodPatch, "/endpoints/{id}", osapi.HandlerFunc(a.updateEndpoint))
	r.Method(http.MethodDelete, "/endpoints/{id}", osapi.HandlerFunc(a.deleteEndpoint))
	r.Method(http.MethodGet, "/domains", osapi.HandlerFunc(a.listDomains))
	r.Method(http.MethodGet, "/domains/{id}", osapi.HandlerFunc(a.getDomain))
	r.Method(http.MethodGet, "/regions", osapi.HandlerFunc(a.listRegions))
	r.Method(http.MethodGet, "/regions/{id}", osapi.HandlerFunc(a.getRegion))
	for _, m := range []string{http.MethodPost, http.MethodPatch, http.MethodDelete} {
		r.Method(m, "/domains", osapi.HandlerFunc(notImplemented("Stratus has a single, read-only domain")))
		r.Method(m, "/domains/{id}", osapi.HandlerFunc(notImplemented("Stratus has a single, read-only domain")))
		r.Method(m, "/regions", osapi.HandlerFunc(notImplemented("Stratus has a single, read-only region")))
		r.Method(m, "/regions/{id}", osapi.HandlerFunc(notImplemented("Stratus has a single, read-only region")))
	}
}

func notImplemented(why string) osapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return osapi.Errorf(http.StatusNotImplemented, "%s.", why)
	}
}

func serviceJSON(r *http.Request, s identity.CatalogService) map[string]any {
	return map[string]any{"id": s.ID, "type": s.Type, "name": s.Name, "description": s.Description,
		"enabled": s.Enabled, "links": selfLink(r, "services/"+s.ID)}
}

type serviceBody struct {
	Service *struct {
		Type        *string `json:"type"`
		Name        *string `json:"name"`
		Description *string `json:"description"`
		Enabled     *bool   `json:"enabled"`
	} `json:"service"`
}

func (a *API) listServices(w http.ResponseWriter, r *http.Request) error {
	list, err := a.ID.ListServices(r.Context(), r.URL.Query().Get("type"), r.URL.Query().Get("name"))
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(list))
	for i, s := range list {
		out[i] = serviceJSON(r, s)
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"services": out, "links": links(r)})
	return nil
}

func decodeService(r *http.Request) (serviceBody, error) {
	var body serviceBody
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return body, err
	}
	if body.Service == nil {
		return body, osapi.Errorf(http.StatusBadRequest, "'service' is a required property.")
	}
	return body, nil
}

func (a *API) createService(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "services"); err != nil {
		return err
	}
	body, err := decodeService(r)
	if err != nil {
		return err
	}
	s := identity.CatalogService{Enabled: true}
	for dst, src := range map[*string]*string{&s.Type: body.Service.Type, &s.Name: body.Service.Name, &s.Description: body.Service.Description} {
		if src != nil {
			*dst = *src
		}
	}
	if body.Service.Enabled != nil {
		s.Enabled = *body.Service.Enabled
	}
	if s, err = a.ID.CreateService(r.Context(), s); err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusCreated, map[string]any{"service": serviceJSON(r, s)})
	return nil
}

func (a *API) getService(w http.ResponseWriter, r *http.Request) error {
	s, err := a.ID.GetService(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"service": serviceJSON(r, s)})
	return nil
}

func (a *API) updateService(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "services"); err != nil {
		return err
	}
	body, err := decodeService(r)
	if err != nil {
		return err
	}
	b := body.Service
	s, err := a.ID.UpdateService(r.Context(), chi.URLParam(r, "id"), b.Type, b.Name, b.Description, b.Enabled)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"service": serviceJSON(r, s)})
	return nil
}

func (a *API) deleteService(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "services"); err != nil {
		return err
	}
	if err := a.ID.DeleteService(r.Context(), chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func endpointJSON(r *http.Request, e identity.Endpoint) map[string]any {
	return map[string]any{"id": e.ID, "service_id": e.ServiceID, "interface": e.Interface, "region": e.RegionID,
		"region_id": e.RegionID, "url": e.URL, "enabled": e.Enabled, "links": selfLink(r, "endpoints/"+e.ID)}
}

type endpointBody struct {
	Endpoint *struct {
		ServiceID string `json:"service_id"`
		Interface string `json:"interface"`
		Region    string `json:"region"`
		RegionID  string `json:"region_id"`
		URL       string `json:"url"`
		Enabled   *bool  `json:"enabled"`
	} `json:"endpoint"`
}

func decodeEndpoint(r *http.Request) (identity.Endpoint, *bool, error) {
	var body endpointBody
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return identity.Endpoint{}, nil, err
	}
	b := body.Endpoint
	if b == nil {
		return identity.Endpoint{}, nil, osapi.Errorf(http.StatusBadRequest, "'endpoint' is a required property.")
	}
	region := b.RegionID
	if region == "" {
		region = b.Region
	}
	if region != "" && region != identity.DefaultRegion {
		return identity.Endpoint{}, nil, osapi.Errorf(http.StatusBadRequest, "Stratus has one region, %q.", identity.DefaultRegion)
	}
	return identity.Endpoint{ServiceID: b.ServiceID, Interface: b.Interface, RegionID: region, URL: b.URL}, b.Enabled, nil
}

func (a *API) listEndpoints(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	list, err := a.ID.ListEndpoints(r.Context(), q.Get("service_id"), q.Get("interface"), q.Get("region_id"))
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(list))
	for i, e := range list {
		out[i] = endpointJSON(r, e)
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"endpoints": out, "links": links(r)})
	return nil
}

func (a *API) createEndpoint(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "endpoints"); err != nil {
		return err
	}
	e, enabled, err := decodeEndpoint(r)
	if err != nil {
		return err
	}
	e.Enabled = enabled == nil || *enabled
	if e, err = a.ID.CreateEndpoint(r.Context(), e); err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusCreated, map[string]any{"endpoint": endpointJSON(r, e)})
	return nil
}

func (a *API) getEndpoint(w http.ResponseWriter, r *http.Request) error {
	e, err := a.ID.GetEndpoint(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"endpoint": endpointJSON(r, e)})
	return nil
}

func (a *API) updateEndpoint(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "endpoints"); err != nil {
		return err
	}
	patch, enabled, err := decodeEndpoint(r)
	if err != nil {
		return err
	}
	e, err := a.ID.UpdateEndpoint(r.Context(), chi.URLParam(r, "id"), patch, enabled)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"endpoint": endpointJSON(r, e)})
	return nil
}

func (a *API) deleteEndpoint(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "endpoints"); err != nil {
		return err
	}
	if err := a.ID.DeleteEndpoint(r.Context(), chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func domainJSON(r *http.Request) map[string]any {
	return map[string]any{"id": identity.DefaultDomainID, "name": identity.DefaultDomainName, "enabled": true,
		"description": "The default domain", "tags": []string{}, "options": map[string]any{},
		"links": selfLink(r, "domains/"+identity.DefaultDomainID)}
}

func (a *API) listDomains(w http.ResponseWriter, r *http.Request) error {
	domains := []any{}
	if name := r.URL.Query().Get("name"); name == "" || name == identity.DefaultDomainName {
		domains = append(domains, domainJSON(r))
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"domains": domains, "links": links(r)})
	return nil
}

func (a *API) getDomain(w http.ResponseWriter, r *http.Request) error {
	if chi.URLParam(r, "id") != identity.DefaultDomainID {
		return osapi.Errorf(http.StatusNotFound, "Could not find domain: %s.", chi.URLParam(r, "id"))
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"domain": domainJSON(r)})
	return nil
}

func regionJSON(r *http.Request) map[string]any {
	return map[string]any{"id": identity.DefaultRegion, "description": "", "parent_region_id": nil,
		"links": selfLink(r, "regions/"+identity.DefaultRegion)}
}

func (a *API) listRegions(w http.ResponseWriter, r *http.Request) error {
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"regions": []any{regionJSON(r)}, "links": links(r)})
	return nil
}

func (a *API) getRegion(w http.ResponseWriter, r *http.Request) error {
	if chi.URLParam(r, "id") != identity.DefaultRegion {
		return osapi.Errorf(http.StatusNotFound, "Could not find region: %s.", chi.URLParam(r, "id"))
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"region": regionJSON(r)})
	return nil
}
