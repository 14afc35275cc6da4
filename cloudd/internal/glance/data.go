package glance

import (
	"mime"
	"net/http"

	"github.com/stratus-cloud/stratus/internal/osapi"
)

// checkDataRequest requires raw data (application/octet-stream) and
// refuses at once a declared length over the size limit, before the
// image changes state.
func (a *API) checkDataRequest(r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/octet-stream" {
			return osapi.Errorf(http.StatusUnsupportedMediaType, "Image data must be sent as application/octet-stream, not %q.", ct)
		}
	}
	if limit := a.Images.MaxSize(); r.ContentLength > limit {
		return osapi.Errorf(http.StatusRequestEntityTooLarge, "Image exceeds the size limit: %d bytes were announced, the limit is %d bytes.",
			r.ContentLength, limit)
	}
	return nil
}

// upload is PUT /v2/images/{id}/file: the data streams into the store.
func (a *API) upload(w http.ResponseWriter, r *http.Request) error {
	if err := a.checkDataRequest(r); err != nil {
		return err
	}
	if _, err := a.Images.Upload(r.Context(), claims(r), id(r), r.Body); err != nil {
		return err
	}
	return noContent(w)
}

// stage is PUT /v2/images/{id}/stage, the first step of glance-direct.
func (a *API) stage(w http.ResponseWriter, r *http.Request) error {
	if err := a.checkDataRequest(r); err != nil {
		return err
	}
	if _, err := a.Images.Stage(r.Context(), claims(r), id(r), r.Body); err != nil {
		return err
	}
	return noContent(w)
}

// importImage is POST /v2/images/{id}/import: 202 once the import is done
// (glance-direct finishes at once; clients poll the image anyway).
func (a *API) importImage(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Method *struct {
			Name string `json:"name"`
		} `json:"method"`
		Stores []string `json:"stores"`
	}
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return err
	}
	if body.Method == nil || body.Method.Name == "" {
		return osapi.Errorf(http.StatusBadRequest, "'method' with a 'name' is required, e.g. {\"method\": {\"name\": \"glance-direct\"}}.")
	}
	if len(body.Stores) > 0 {
		return osapi.Errorf(http.StatusBadRequest, "This cloud has a single image store; 'stores' is not supported.")
	}
	if _, err := a.Images.Import(r.Context(), claims(r), id(r), body.Method.Name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// download is GET /v2/images/{id}/file, with Range support (206, 416).
// A full answer carries the md5 checksum in Content-MD5 (hex, as Glance
// sends it); an image without data is 204.
func (a *API) download(w http.ResponseWriter, r *http.Request) error {
	img, f, err := a.Images.Download(r.Context(), claims(r), id(r))
	if err != nil {
		return err
	}
	if f == nil {
		return noContent(w)
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	if r.Header.Get("Range") == "" && img.Checksum != "" {
		w.Header().Set("Content-MD5", img.Checksum)
	}
	http.ServeContent(w, r, "", img.UpdatedAt, f)
	return nil
}
