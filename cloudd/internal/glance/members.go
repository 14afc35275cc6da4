package glance

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/image"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

func (a *API) memberRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/members", osapi.HandlerFunc(a.listMembers))
	r.Method(http.MethodPost, "/members", osapi.HandlerFunc(a.addMember))
	r.Method(http.MethodGet, "/members/{member}", osapi.HandlerFunc(a.showMember))
	r.Method(http.MethodPut, "/members/{member}", osapi.HandlerFunc(a.updateMember))
	r.Method(http.MethodDelete, "/members/{member}", osapi.HandlerFunc(a.removeMember))
}

func member(r *http.Request) string { return chi.URLParam(r, "member") }

func (a *API) listMembers(w http.ResponseWriter, r *http.Request) error {
	members, err := a.Images.ListMembers(r.Context(), claims(r), id(r))
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(members))
	for i, m := range members {
		out[i] = memberJSON(m)
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"members": out, "schema": "/v2/schemas/members"})
	return nil
}

func (a *API) addMember(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Member string `json:"member"`
	}
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return err
	}
	m, err := a.Images.AddMember(r.Context(), claims(r), id(r), body.Member)
	return writeMember(w, m, err)
}

func (a *API) showMember(w http.ResponseWriter, r *http.Request) error {
	m, err := a.Images.GetMember(r.Context(), claims(r), id(r), member(r))
	return writeMember(w, m, err)
}

func (a *API) updateMember(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Status string `json:"status"`
	}
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return err
	}
	m, err := a.Images.UpdateMember(r.Context(), claims(r), id(r), member(r), body.Status)
	return writeMember(w, m, err)
}

func (a *API) removeMember(w http.ResponseWriter, r *http.Request) error {
	if err := a.Images.RemoveMember(r.Context(), claims(r), id(r), member(r)); err != nil {
		return err
	}
	return noContent(w)
}

func writeMember(w http.ResponseWriter, m image.Member, err error) error {
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, memberJSON(m))
	return nil
}
