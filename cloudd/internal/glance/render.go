package glance

import (
	"github.com/stratus-cloud/stratus/cloudd/internal/image"
)

// imageJSON is Glance's image document: the attributes, with null for
// what is not set (or not known before the data is in), and the free-form
// properties as extra top-level keys.
func imageJSON(img image.Image) map[string]any {
	m := make(map[string]any, len(img.Properties)+24)
	for k, v := range img.Properties {
		m[k] = v
	}
	hasData := img.HashValue != ""
	tags := img.Tags
	if tags == nil {
		tags = []string{}
	}
	for k, v := range map[string]any{
		"id":               img.ID,
		"name":             orNull(img.Name),
		"status":           img.Status,
		"visibility":       img.Visibility,
		"protected":        img.Protected,
		"os_hidden":        false,
		"owner":            img.Owner,
		"disk_format":      orNull(img.DiskFormat),
		"container_format": orNull(img.ContainerFormat),
		"min_disk":         img.MinDisk,
		"min_ram":          img.MinRAM,
		"size":             ifData(hasData, img.Size),
		"virtual_size":     ifData(hasData, img.VirtualSize),
		"checksum":         orNull(img.Checksum),
		"os_hash_algo":     orNull(img.HashAlgo),
		"os_hash_value":    orNull(img.HashValue),
		"tags":             tags,
		"created_at":       formatTime(img.CreatedAt),
		"updated_at":       formatTime(img.UpdatedAt),
		"self":             "/v2/images/" + img.ID,
		"file":             "/v2/images/" + img.ID + "/file",
		"schema":           "/v2/schemas/image",
	} {
		m[k] = v
	}
	return m
}

func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func ifData(hasData bool, n int64) any {
	if !hasData {
		return nil
	}
	return n
}

func memberJSON(m image.Member) map[string]any {
	return map[string]any{
		"image_id": m.ImageID, "member_id": m.MemberID, "status": m.Status,
		"created_at": formatTime(m.CreatedAt), "updated_at": formatTime(m.UpdatedAt),
		"schema": "/v2/schemas/member",
	}
}
