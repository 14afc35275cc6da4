package cinder

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/volume"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

func (a *API) typeRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/types", osapi.HandlerFunc(a.listTypes))
	r.Method(http.MethodPost, "/types", osapi.HandlerFunc(a.createType))
	r.Method(http.MethodGet, "/types/default", osapi.HandlerFunc(a.defaultType))
	r.Method(http.MethodGet, "/types/{id}", osapi.HandlerFunc(a.getType))
	r.Method(http.MethodPut, "/types/{id}", osapi.HandlerFunc(a.updateType))
	r.Method(http.MethodDelete, "/types/{id}", osapi.HandlerFunc(a.deleteType))
	r.Method(http.MethodGet, "/types/{id}/extra_specs", osapi.HandlerFunc(a.listExtraSpecs))
	r.Method(http.MethodPost, "/types/{id}/extra_specs", osapi.HandlerFunc(a.setExtraSpecs))
	r.Method(http.MethodGet, "/types/{id}/extra_specs/{key}", osapi.HandlerFunc(a.getExtraSpec))
	r.Method(http.MethodPut, "/types/{id}/extra_specs/{key}", osapi.HandlerFunc(a.setExtraSpec))
	r.Method(http.MethodDelete, "/types/{id}/extra_specs/{key}", osapi.HandlerFunc(a.deleteExtraSpec))
}

func typeJSON(t volume.Type) map[string]any {
	return map[string]any{"id": t.ID, "name": t.Name, "description": t.Description, "is_public": t.IsPublic,
		"os-volume-type-access:is_public": t.IsPublic, "extra_specs": t.ExtraSpecs, "qos_specs_id": nil}
}

func (a *API) listTypes(w http.ResponseWriter, r *http.Request) error {
	list, err := a.Volumes.ListTypes(r.Context(), claims(r))
	if err != nil {
		return err
	}
	out := make([]any, len(list))
	for i, t := range list {
		out[i] = typeJSON(t)
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"volume_types": out})
	return nil
}

func (a *API) writeType(w http.ResponseWriter, t volume.Type, err error) error {
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"volume_type": typeJSON(t)})
	return nil
}

func (a *API) getType(w http.ResponseWriter, r *http.Request) error {
	t, err := a.Volumes.GetType(r.Context(), claims(r), chi.URLParam(r, "id"))
	return a.writeType(w, t, err)
}

func (a *API) defaultType(w http.ResponseWriter, r *http.Request) error {
	t, err := a.Volumes.DefaultVolumeType(r.Context(), claims(r))
	return a.writeType(w, t, err)
}

type typeBody struct {
	VolumeType *struct {
		Name        *string           `json:"name"`
		Description *string           `json:"description"`
		IsPublic    *bool             `json:"is_public"`
		Access      *bool             `json:"os-volume-type-access:is_public"`
		ExtraSpecs  map[string]string `json:"extra_specs"`
	} `json:"volume_type"`
}

func (a *API) createType(w http.ResponseWriter, r *http.Request) error {
	var body typeBody
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return err
	}
	b := body.VolumeType
	if b == nil || b.Name == nil {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute name: 'name' is a required property.")
	}
	t := volume.Type{Name: *b.Name, IsPublic: true, ExtraSpecs: b.ExtraSpecs}
	if b.Description != nil {
		t.Description = *b.Description
	}
	for _, p := range []*bool{b.Access, b.IsPublic} {
		if p != nil {
			t.IsPublic = *p
		}
	}
	t, err := a.Volumes.CreateType(r.Context(), claims(r), t)
	return a.writeType(w, t, err)
}

func (a *API) updateType(w http.ResponseWriter, r *http.Request) error {
	var body typeBody
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return err
	}
	b := body.VolumeType
	if b == nil {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute volume_type: 'volume_type' is a required property.")
	}
	t, err := a.Volumes.UpdateType(r.Context(), claims(r), chi.URLParam(r, "id"), b.Name, b.Description, b.IsPublic)
	return a.writeType(w, t, err)
}

func (a *API) deleteType(w http.ResponseWriter, r *http.Request) error {
	if err := a.Volumes.DeleteType(r.Context(), claims(r), chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (a *API) listExtraSpecs(w http.ResponseWriter, r *http.Request) error {
	t, err := a.Volumes.GetType(r.Context(), claims(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"extra_specs": t.ExtraSpecs})
	return nil
}

func (a *API) setExtraSpecs(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		ExtraSpecs map[string]string `json:"extra_specs"`
	}
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return err
	}
	if body.ExtraSpecs == nil {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute extra_specs: 'extra_specs' is a required property.")
	}
	specs, err := a.Volumes.SetExtraSpecs(r.Context(), claims(r), chi.URLParam(r, "id"), body.ExtraSpecs)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"extra_specs": specs})
	return nil
}

func (a *API) getExtraSpec(w http.ResponseWriter, r *http.Request) error {
	t, err := a.Volumes.GetType(r.Context(), claims(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	key := chi.URLParam(r, "key")
	v, ok := t.ExtraSpecs[key]
	if !ok {
		return osapi.Errorf(http.StatusNotFound, "Volume Type %s has no extra specs with key %s.", t.ID, key)
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]string{key: v})
	return nil
}

func (a *API) setExtraSpec(w http.ResponseWriter, r *http.Request) error {
	var body map[string]string
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return err
	}
	key := chi.URLParam(r, "key")
	if _, ok := body[key]; !ok || len(body) != 1 {
		return osapi.Errorf(http.StatusBadRequest, "Request body and URI mismatch")
	}
	specs, err := a.Volumes.SetExtraSpecs(r.Context(), claims(r), chi.URLParam(r, "id"), body)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, specs)
	return nil
}

func (a *API) deleteExtraSpec(w http.ResponseWriter, r *http.Request) error {
	if err := a.Volumes.DeleteExtraSpec(r.Context(), claims(r), chi.URLParam(r, "id"), chi.URLParam(r, "key")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}
