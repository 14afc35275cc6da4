package glance

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/stratus-cloud/stratus/cloudd/internal/image"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

// currentMinor is the Glance v2 minor version we report as CURRENT: 2.7
// brought os_hash_algo/os_hash_value; the multi-store (2.8) and cache
// (2.14+) APIs are not offered.
const currentMinor = 7

// versions is Glance's version list, at /image (300, as Glance answers
// the root) and /image/versions (200). Clients pick a v2 entry and append
// "v2/" to the endpoint.
func (a *API) versions(w http.ResponseWriter, r *http.Request) error {
	href := osapi.BaseURL(r) + "/image/v2/"
	values := make([]map[string]any, 0, currentMinor+1)
	for minor := currentMinor; minor >= 0; minor-- {
		status := "SUPPORTED"
		if minor == currentMinor {
			status = "CURRENT"
		}
		values = append(values, map[string]any{"id": fmt.Sprintf("v2.%d", minor), "status": status,
			"links": []osapi.Link{{Rel: "self", Href: href}}})
	}
	status := http.StatusOK
	if !strings.HasSuffix(r.URL.Path, "/versions") {
		status = http.StatusMultipleChoices
	}
	osapi.WriteJSON(w, status, map[string]any{"versions": values})
	return nil
}

// importInfo advertises the interoperable import methods.
func (a *API) importInfo(w http.ResponseWriter, r *http.Request) error {
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"import-methods": map[string]any{
		"description": "Import methods available.", "type": "array", "value": image.ImportMethods,
	}})
	return nil
}
