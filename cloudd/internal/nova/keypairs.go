package nova

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/compute"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

func (a *API) keypairRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/os-keypairs", osapi.HandlerFunc(a.listKeypairs))
	r.Method(http.MethodPost, "/os-keypairs", osapi.HandlerFunc(a.createKeypair))
	r.Method(http.MethodGet, "/os-keypairs/{name}", osapi.HandlerFunc(a.getKeypair))
	r.Method(http.MethodDelete, "/os-keypairs/{name}", osapi.HandlerFunc(a.deleteKeypair))
}

// keypairTime is how Nova writes a keypair's created_at: naive UTC.
const keypairTime = "2006-01-02T15:04:05.000000"

// keypairOwner is the user a keypair request is about: the caller, or
// user_id for an admin.
func keypairOwner(r *http.Request) (string, error) {
	return compute.KeypairOwner(claims(r), r.URL.Query().Get("user_id"))
}

func (a *API) listKeypairs(w http.ResponseWriter, r *http.Request) error {
	owner, err := keypairOwner(r)
	if err != nil {
		return err
	}
	keys, err := a.Compute.ListKeypairs(r.Context(), owner)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(keys))
	for i, k := range keys {
		out[i] = map[string]any{"keypair": map[string]any{"name": k.Name, "public_key": k.PublicKey, "fingerprint": k.Fingerprint}}
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"keypairs": out})
	return nil
}

func (a *API) getKeypair(w http.ResponseWriter, r *http.Request) error {
	owner, err := keypairOwner(r)
	if err != nil {
		return err
	}
	k, err := a.Compute.GetKeypair(r.Context(), owner, chi.URLParam(r, "name"))
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"keypair": map[string]any{
		"name": k.Name, "public_key": k.PublicKey, "fingerprint": k.Fingerprint, "user_id": k.UserID,
		"created_at": k.CreatedAt.UTC().Format(keypairTime), "updated_at": nil, "deleted_at": nil, "deleted": false,
	}})
	return nil
}

// createKeypair imports public_key, or generates a key when there is none
// (Nova 2.1 behaviour; generation went away in 2.92) and returns its
// private half this once.
func (a *API) createKeypair(w http.ResponseWriter, r *http.Request) error {
	owner, err := keypairOwner(r)
	if err != nil {
		return err
	}
	var body struct {
		Keypair *struct {
			Name      *string `json:"name"`
			PublicKey string  `json:"public_key"`
		} `json:"keypair"`
	}
	if err := osapi.DecodeJSON(r, &body, true); err != nil {
		return err
	}
	if body.Keypair == nil || body.Keypair.Name == nil {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute keypair: 'name' is a required property.")
	}
	k, err := a.Compute.CreateKeypair(r.Context(), claims(r), owner, *body.Keypair.Name, body.Keypair.PublicKey)
	if err != nil {
		return err
	}
	out := map[string]any{"name": k.Name, "public_key": k.PublicKey, "fingerprint": k.Fingerprint, "user_id": k.UserID}
	if k.PrivateKey != "" {
		out["private_key"] = k.PrivateKey
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"keypair": out})
	return nil
}

func (a *API) deleteKeypair(w http.ResponseWriter, r *http.Request) error {
	owner, err := keypairOwner(r)
	if err != nil {
		return err
	}
	if err := a.Compute.DeleteKeypair(r.Context(), owner, chi.URLParam(r, "name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}
