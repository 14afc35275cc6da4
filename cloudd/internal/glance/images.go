package glance

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/stratus-cloud/stratus/cloudd/internal/image"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

// createImage is POST /v2/images: a queued record, 201.
func (a *API) createImage(w http.ResponseWriter, r *http.Request) error {
	var body map[string]json.RawMessage
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return err
	}
	img, err := decodeCreate(body)
	if err != nil {
		return err
	}
	if img, err = a.Images.Create(r.Context(), claims(r), img); err != nil {
		return err
	}
	w.Header().Set("Location", osapi.BaseURL(r)+"/image/v2/images/"+img.ID)
	w.Header().Set("OpenStack-image-import-methods", strings.Join(image.ImportMethods, ","))
	osapi.WriteJSON(w, http.StatusCreated, imageJSON(img))
	return nil
}

// decodeCreate reads a create body: the image attributes, and any other
// key as a string property. Read-only attributes are 403, as in Glance.
func decodeCreate(body map[string]json.RawMessage) (image.Image, error) {
	img := image.Image{Properties: map[string]string{}}
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	slices.Sort(keys) // report the same problem first every time
	for _, k := range keys {
		raw := body[k]
		var err error
		switch k {
		case "id":
			err = decodeField(k, raw, &img.ID, false)
		case "name":
			err = decodeField(k, raw, &img.Name, true)
		case "visibility":
			err = decodeField(k, raw, &img.Visibility, false)
		case "protected":
			err = decodeField(k, raw, &img.Protected, false)
		case "os_hidden":
			var hidden bool
			if err = decodeField(k, raw, &hidden, false); err == nil && hidden {
				err = osapi.Errorf(http.StatusBadRequest, "Hidden images (os_hidden=true) are not supported.")
			}
		case "tags":
			err = decodeField(k, raw, &img.Tags, true)
		case "disk_format":
			err = decodeField(k, raw, &img.DiskFormat, true)
		case "container_format":
			err = decodeField(k, raw, &img.ContainerFormat, true)
		case "min_disk":
			err = decodeField(k, raw, &img.MinDisk, false)
		case "min_ram":
			err = decodeField(k, raw, &img.MinRAM, false)
		case "owner":
			err = decodeField(k, raw, &img.Owner, true)
		default:
			err = decodeProperty(k, raw, img.Properties)
		}
		if err != nil {
			return image.Image{}, err
		}
	}
	return img, nil
}

// decodeProperty decodes a free-form property into props: a string under
// a name that is neither read-only nor reserved.
func decodeProperty(name string, raw json.RawMessage, props map[string]string) error {
	if err := image.CheckWritable(name); err != nil {
		return err
	}
	var v string
	if json.Unmarshal(raw, &v) != nil {
		return osapi.Errorf(http.StatusBadRequest, "Invalid value for property '%s': %s is not a string; property values are strings.", name, raw)
	}
	props[name] = v
	return nil
}

// decodeField decodes one attribute; JSON null leaves the zero value
// where the attribute is nullable.
func decodeField[T any](name string, raw json.RawMessage, dst *T, nullable bool) error {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		if nullable {
			return nil
		}
		return osapi.Errorf(http.StatusBadRequest, "Invalid value for '%s': it cannot be null.", name)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return osapi.Errorf(http.StatusBadRequest, "Invalid value for '%s': %s has the wrong type.", name, raw)
	}
	return nil
}

// Glance's page sizes: limit_param_default and api_limit_max.
const (
	defaultLimit = 25
	maxLimit     = 1000
)

// listImages is GET /v2/images, with Glance's filters, sorting and
// limit/marker paging ("next" links while pages come back full).
func (a *API) listImages(w http.ResponseWriter, r *http.Request) error {
	q, err := parseListQuery(r.URL.Query())
	if err != nil {
		return err
	}
	images, err := a.Images.List(r.Context(), claims(r), q)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(images))
	for i, img := range images {
		out[i] = imageJSON(img)
	}
	params := r.URL.Query()
	params.Del("marker")
	body := map[string]any{"images": out, "first": withQuery("/v2/images", params), "schema": "/v2/schemas/images"}
	if len(images) > 0 && len(images) == q.Limit {
		params.Set("marker", images[len(images)-1].ID)
		body["next"] = withQuery("/v2/images", params)
	}
	osapi.WriteJSON(w, http.StatusOK, body)
	return nil
}

func withQuery(path string, params url.Values) string {
	if len(params) == 0 {
		return path
	}
	return path + "?" + params.Encode()
}

func (a *API) showImage(w http.ResponseWriter, r *http.Request) error {
	img, err := a.Images.Get(r.Context(), claims(r), id(r))
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, imageJSON(img))
	return nil
}

// patchMediaType is the JSON patch flavour Glance v2.1 clients send.
const patchMediaType = "application/openstack-images-v2.1-json-patch"

// updateImage is PATCH /v2/images/{id} with a JSON patch.
func (a *API) updateImage(w http.ResponseWriter, r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, patchMediaType) {
		return osapi.Errorf(http.StatusUnsupportedMediaType, "Image updates must be JSON patches with Content-Type %s, not %q.", patchMediaType, ct)
	}
	changes, err := decodePatch(r)
	if err != nil {
		return err
	}
	img, err := a.Images.Update(r.Context(), claims(r), id(r), changes)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, imageJSON(img))
	return nil
}

// decodePatch reads a JSON patch: a list of {"op", "path", "value"}
// whose paths name one attribute ("/name", "/hw_disk_bus").
func decodePatch(r *http.Request) ([]image.Change, error) {
	var ops []map[string]json.RawMessage
	if err := osapi.DecodeJSON(r, &ops, false); err != nil {
		return nil, err
	}
	changes := make([]image.Change, 0, len(ops))
	for i, op := range ops {
		var name, path string
		if json.Unmarshal(op["op"], &name) != nil || name != image.OpAdd && name != image.OpReplace && name != image.OpRemove {
			return nil, osapi.Errorf(http.StatusBadRequest, "Change %d: 'op' must be one of add, remove, replace.", i)
		}
		if json.Unmarshal(op["path"], &path) != nil {
			return nil, osapi.Errorf(http.StatusBadRequest, "Change %d: 'path' is required and must be a JSON pointer such as \"/name\".", i)
		}
		attr, ok := pointerAttr(path)
		if !ok {
			return nil, osapi.Errorf(http.StatusBadRequest, "Invalid JSON pointer for this resource: '%s'.", path)
		}
		value, hasValue := op["value"]
		if name != image.OpRemove && !hasValue {
			return nil, osapi.Errorf(http.StatusBadRequest, "Change %d: operation '%s' needs a 'value'.", i, name)
		}
		if name == image.OpRemove {
			value = nil
		}
		changes = append(changes, image.Change{Op: name, Attr: attr, Value: value})
	}
	return changes, nil
}

// pointerAttr reads a one-level JSON pointer (RFC 6901): "/a~1b" is "a/b".
func pointerAttr(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/")
	if !ok || rest == "" || strings.Contains(rest, "/") {
		return "", false
	}
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(rest), true
}

func (a *API) deleteImage(w http.ResponseWriter, r *http.Request) error {
	if err := a.Images.Delete(r.Context(), claims(r), id(r)); err != nil {
		return err
	}
	return noContent(w)
}

// positiveInt reads a non-negative integer query parameter.
func positiveInt(name, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, osapi.Errorf(http.StatusBadRequest, "%s must be a non-negative integer, got %q.", name, v)
	}
	return n, nil
}
