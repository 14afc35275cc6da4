package keystone

import (
	"net/http"

	"github.com/stratus-cloud/stratus/internal/osapi"
)

func (a *API) versionDoc(r *http.Request) map[string]any {
	return map[string]any{
		"id":      APIVersion,
		"status":  "stable",
		"updated": "2020-04-07T00:00:00Z",
		"links":   []osapi.Link{{Rel: "self", Href: osapi.BaseURL(r) + "/identity/v3/"}},
		"media-types": []map[string]string{{
			"base": "application/json", "type": "application/vnd.openstack.identity-v3+json",
		}},
	}
}

// versions is the multiple-choice document at /identity.
func (a *API) versions(w http.ResponseWriter, r *http.Request) error {
	osapi.WriteJSON(w, http.StatusMultipleChoices, map[string]any{"versions": map[string]any{"values": []any{a.versionDoc(r)}}})
	return nil
}

// version is the document at /identity/v3.
func (a *API) version(w http.ResponseWriter, r *http.Request) error {
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"version": a.versionDoc(r)})
	return nil
}
