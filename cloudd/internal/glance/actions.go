package glance

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

func (a *API) addTag(w http.ResponseWriter, r *http.Request) error {
	if err := a.Images.AddTag(r.Context(), claims(r), id(r), chi.URLParam(r, "tag")); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) removeTag(w http.ResponseWriter, r *http.Request) error {
	if err := a.Images.RemoveTag(r.Context(), claims(r), id(r), chi.URLParam(r, "tag")); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) deactivate(w http.ResponseWriter, r *http.Request) error {
	if err := a.Images.Deactivate(r.Context(), claims(r), id(r)); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) reactivate(w http.ResponseWriter, r *http.Request) error {
	if err := a.Images.Reactivate(r.Context(), claims(r), id(r)); err != nil {
		return err
	}
	return noContent(w)
}
