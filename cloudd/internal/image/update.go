package image

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Change operations of a JSON patch (Glance's v2.1 patch media type).
const (
	OpAdd     = "add"
	OpReplace = "replace"
	OpRemove  = "remove"
)

// Change is one operation of an image update.
type Change struct {
	Op    string          // OpAdd, OpReplace or OpRemove
	Attr  string          // the attribute or property the patch path names
	Value json.RawMessage // the new value as JSON; nil for OpRemove
}

// Update applies changes to image id, all or none, as Glance applies a
// JSON patch: read-only attributes are 403, base attributes cannot be
// removed, "add" sets a property whether or not it exists, "replace" and
// "remove" need it to exist (409 otherwise), and disk_format and
// container_format change only while the image is queued.
func (s *Service) Update(ctx context.Context, c *token.Claims, id string, changes []Change) (Image, error) {
	var out Image
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		img, err := writable(ctx, tx, c, id)
		if err != nil {
			return err
		}
		img.Properties = maps.Clone(img.Properties)
		img.Tags = slices.Clone(img.Tags)
		for _, ch := range changes {
			if err := apply(c, &img, ch); err != nil {
				return err
			}
		}
		if len(img.Properties) > maxProperties {
			return osapi.Errorf(http.StatusRequestEntityTooLarge, "Attempted to add more properties than allowed: at most %d.", maxProperties)
		}
		out, err = updateReturning(ctx, tx, `UPDATE images i SET name = $2, visibility = $3, protected = $4, tags = $5,
			disk_format = $6, container_format = $7, min_disk = $8, min_ram = $9, owner = $10, properties = $11,
			updated_at = now() WHERE i.id = $1`, id, img.Name, img.Visibility, img.Protected, img.Tags,
			img.DiskFormat, img.ContainerFormat, img.MinDisk, img.MinRAM, img.Owner, img.Properties)
		return err
	})
	return out, err
}

// apply makes one change to img.
func apply(c *token.Claims, img *Image, ch Change) error {
	if err := CheckWritable(ch.Attr); err != nil {
		return err
	}
	switch ch.Op {
	case OpAdd, OpReplace:
		if len(ch.Value) == 0 {
			return osapi.Errorf(http.StatusBadRequest, "Operation '%s' on '%s' needs a value.", ch.Op, ch.Attr)
		}
	case OpRemove:
	default:
		return osapi.Errorf(http.StatusBadRequest, "Unsupported patch operation '%s': use add, replace or remove.", ch.Op)
	}
	if !isBaseAttr(ch.Attr) {
		return applyProperty(img, ch)
	}
	if ch.Op == OpRemove {
		return osapi.Errorf(http.StatusForbidden, "Attribute '%s' is an image attribute and cannot be removed.", ch.Attr)
	}
	switch ch.Attr {
	case "name":
		return setValue(ch, &img.Name, true, checkName)
	case "visibility":
		return setValue(ch, &img.Visibility, false, func(v string) error { return checkVisibility(c, v) })
	case "protected":
		return setValue(ch, &img.Protected, false, nil)
	case "os_hidden":
		var hidden bool
		if err := setValue(ch, &hidden, false, nil); err != nil || !hidden {
			return err
		}
		return osapi.Errorf(http.StatusBadRequest, "Hidden images (os_hidden=true) are not supported.")
	case "min_disk":
		return setValue(ch, &img.MinDisk, false, func(v int) error { return checkMinimum("min_disk", v) })
	case "min_ram":
		return setValue(ch, &img.MinRAM, false, func(v int) error { return checkMinimum("min_ram", v) })
	case "tags":
		var tags []string
		if err := setValue(ch, &tags, false, nil); err != nil {
			return err
		}
		var err error
		img.Tags, err = cleanTags(tags)
		return err
	case "disk_format", "container_format":
		if img.Status != StatusQueued {
			return osapi.Errorf(http.StatusForbidden, "Attribute '%s' can be only replaced for a queued image.", ch.Attr)
		}
		if ch.Attr == "disk_format" {
			return setValue(ch, &img.DiskFormat, true, checkDiskFormat)
		}
		return setValue(ch, &img.ContainerFormat, true, checkContainerFormat)
	case "owner":
		if !policy.IsAdmin(c) {
			return osapi.Errorf(http.StatusForbidden, "Only admins may change the owner of an image.")
		}
		return setValue(ch, &img.Owner, false, func(v string) error {
			if v == "" {
				return osapi.Errorf(http.StatusBadRequest, "Invalid value for 'owner': a project id is required.")
			}
			return nil
		})
	}
	return nil
}

// applyProperty adds, replaces or removes a free-form property.
func applyProperty(img *Image, ch Change) error {
	_, exists := img.Properties[ch.Attr]
	if ch.Op != OpAdd && !exists {
		return osapi.Errorf(http.StatusConflict, "Property %s does not exist.", ch.Attr)
	}
	if ch.Op == OpRemove {
		delete(img.Properties, ch.Attr)
		return nil
	}
	var v string
	if err := setValue(ch, &v, false, nil); err != nil {
		return err
	}
	if err := checkProperty(ch.Attr, v); err != nil {
		return err
	}
	img.Properties[ch.Attr] = v
	return nil
}

// setValue decodes ch.Value into *dst and runs check on it. JSON null is
// the zero value where nullable, else an error.
func setValue[T any](ch Change, dst *T, nullable bool, check func(T) error) error {
	var v T
	if bytes.Equal(bytes.TrimSpace(ch.Value), []byte("null")) {
		if !nullable {
			return osapi.Errorf(http.StatusBadRequest, "Invalid value for '%s': it cannot be null.", ch.Attr)
		}
	} else if err := json.Unmarshal(ch.Value, &v); err != nil {
		return osapi.Errorf(http.StatusBadRequest, "Invalid value for '%s': %s is not %s.", ch.Attr, ch.Value, kindOf(v))
	}
	if check != nil {
		if err := check(v); err != nil {
			return err
		}
	}
	*dst = v
	return nil
}

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int:
		return "an integer"
	default:
		return "a list of strings"
	}
}
