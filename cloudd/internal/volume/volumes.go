package volume

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor"
	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/outbox"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Cinder's volume statuses. Transitions go through transition, which only
// moves a volume from the statuses an operation allows.
const (
	StatusCreating       = "creating"
	StatusAvailable      = "available"
	StatusReserved       = "reserved"
	StatusAttaching      = "attaching"
	StatusInUse          = "in-use"
	StatusDetaching      = "detaching"
	StatusExtending      = "extending"
	StatusDeleting       = "deleting"
	StatusError          = "error"
	StatusErrorDeleting  = "error_deleting"
	StatusErrorExtending = "error_extending"
)

// deletable are the statuses a volume may be deleted from, as in Cinder.
var deletable = []string{StatusAvailable, StatusError, StatusErrorExtending, StatusErrorDeleting}

// Attachment is a volume attached to a server.
type Attachment struct {
	ID                  string    `json:"id"`
	VolumeID            string    `json:"volume_id"`
	ServerID            string    `json:"server_id"`
	Device              string    `json:"device"`
	DeleteOnTermination bool      `json:"delete_on_termination"`
	AttachedAt          time.Time `json:"attached_at"`
}

// Volume is a block storage volume.
type Volume struct {
	ID, Name, Description     string
	ProjectID, UserID         string
	SizeGB                    int
	TypeID, TypeName          string
	Status                    string
	HostID, HostName, HostURI string
	AvailabilityZone          string
	Bootable                  bool
	SourceImageID             string
	SourceVolumeID            string
	SnapshotID                string
	Metadata                  map[string]string
	ImageMetadata             map[string]string
	Attachments               []Attachment
	CreatedAt, UpdatedAt      time.Time
}

const volumeCols = `v.id, v.name, v.description, v.project_id, v.user_id, v.size_gb, v.type_id, t.name, v.status,
	coalesce(v.host_id::text, ''), coalesce(h.name, ''), coalesce(h.uri, ''), v.availability_zone, v.bootable,
	coalesce(v.source_image_id, ''), coalesce(v.source_volume_id, ''), coalesce(v.snapshot_id, ''), v.metadata, v.image_metadata,
	coalesce((SELECT json_agg(json_build_object('id', a.id, 'volume_id', a.volume_id, 'server_id', a.server_id, 'device', a.device,
		'delete_on_termination', a.delete_on_termination, 'attached_at', a.created_at) ORDER BY a.created_at)
		FROM volume_attachments a WHERE a.volume_id = v.id), '[]'),
	v.created_at, v.updated_at`

const volumeFrom = " FROM volumes v JOIN volume_types t ON t.id = v.type_id LEFT JOIN hosts h ON h.id = v.host_id "

func scanVolume(row pgx.CollectableRow) (Volume, error) {
	var v Volume
	err := row.Scan(&v.ID, &v.Name, &v.Description, &v.ProjectID, &v.UserID, &v.SizeGB, &v.TypeID, &v.TypeName, &v.Status,
		&v.HostID, &v.HostName, &v.HostURI, &v.AvailabilityZone, &v.Bootable, &v.SourceImageID, &v.SourceVolumeID, &v.SnapshotID,
		&v.Metadata, &v.ImageMetadata, &v.Attachments, &v.CreatedAt, &v.UpdatedAt)
	return v, err
}

func badRequest(format string, args ...any) error {
	return osapi.Errorf(http.StatusBadRequest, format, args...)
}

func notFoundVolume(id string) error {
	return osapi.Errorf(http.StatusNotFound, "Volume %s could not be found.", id)
}

// getVolume reads a volume; lock takes its row lock for the rest of tx
// first, so the read (a statement of its own, with a fresh snapshot) sees
// what the previous holder of the lock committed, attachments included.
func (s *Service) getVolume(ctx context.Context, q db.Querier, id string, lock bool) (Volume, error) {
	if lock {
		if _, err := q.Exec(ctx, "SELECT 1 FROM volumes WHERE id = $1 FOR UPDATE", id); err != nil {
			return Volume{}, err
		}
	}
	rows, _ := q.Query(ctx, "SELECT "+volumeCols+volumeFrom+"WHERE v.id = $1 AND NOT v.deleted", id)
	v, err := pgx.CollectExactlyOneRow(rows, scanVolume)
	if errors.Is(err, pgx.ErrNoRows) {
		return Volume{}, notFoundVolume(id)
	}
	return v, err
}

// visible returns the volume if c may see it; other projects' volumes do
// not exist for it.
func (s *Service) visible(ctx context.Context, q db.Querier, c *token.Claims, id string, action policy.Action, lock bool) (Volume, error) {
	v, err := s.getVolume(ctx, q, id, lock)
	if err != nil {
		return Volume{}, err
	}
	if err := policy.Authorize(c, action, v.ProjectID, "volume"); err != nil {
		if e, _ := osapi.AsError(err); e.Status == http.StatusNotFound {
			return Volume{}, notFoundVolume(id)
		}
		return Volume{}, err
	}
	return v, nil
}

// Get returns a volume the caller may see.
func (s *Service) Get(ctx context.Context, c *token.Claims, id string) (Volume, error) {
	return s.visible(ctx, s.pool, c, id, policy.Read, false)
}

// transition moves a locked volume to status to when its status is one of
// from, else it is Cinder's 400 "Invalid volume".
func (s *Service) transition(ctx context.Context, tx pgx.Tx, v *Volume, op, to string, from ...string) error {
	ok := false
	for _, f := range from {
		ok = ok || v.Status == f
	}
	if !ok {
		return badRequest("Invalid volume: Volume %s status must be %s to %s, but it is %s.", v.ID, strings.Join(from, " or "), op, v.Status)
	}
	_, err := tx.Exec(ctx, "UPDATE volumes SET status = $2, updated_at = now() WHERE id = $1", v.ID, to)
	v.Status = to
	return err
}

// setStatus moves a volume from one status to another outside an API call
// (a task finishing); it reports whether the volume was in from.
func setStatus(ctx context.Context, q db.Querier, id, from, to string) (bool, error) {
	tag, err := q.Exec(ctx, "UPDATE volumes SET status = $3, updated_at = now() WHERE id = $1 AND status = $2 AND NOT deleted", id, from, to)
	return tag.RowsAffected() == 1, err
}

// CreateRequest is a volume create.
type CreateRequest struct {
	Name, Description string
	SizeGB            int // 0: the source's size (snapshot or volume)
	Type              string
	AvailabilityZone  string
	ImageID           string
	SourceVolumeID    string
	SnapshotID        string
	Metadata          map[string]string
	// HostID places the volume (boot from volume puts it where the server
	// goes); empty lets the service choose.
	HostID string
}

func validateText(field, v string, max int) error {
	if utf8.RuneCountInString(v) > max {
		return badRequest("Invalid input for field/attribute %s: at most %d characters.", field, max)
	}
	return nil
}

func validateMetadata(md map[string]string) error {
	for k, v := range md {
		if k == "" || utf8.RuneCountInString(k) > 255 || utf8.RuneCountInString(v) > 255 {
			return badRequest("Invalid input for field/attribute metadata: keys must be 1 to 255 characters and values at most 255.")
		}
	}
	return nil
}

// Create validates req, reserves quota and records the volume in
// "creating" with the task that makes its disk, all in one transaction.
func (s *Service) Create(ctx context.Context, c *token.Claims, req CreateRequest) (Volume, error) {
	if err := policy.Authorize(c, policy.Write, c.ProjectID, "volumes"); err != nil {
		return Volume{}, err
	}
	if err := validateText("name", req.Name, 255); err != nil {
		return Volume{}, err
	}
	if err := validateText("description", req.Description, 255); err != nil {
		return Volume{}, err
	}
	if err := validateMetadata(req.Metadata); err != nil {
		return Volume{}, err
	}
	sources := 0
	for _, src := range []string{req.ImageID, req.SourceVolumeID, req.SnapshotID} {
		if src != "" {
			sources++
		}
	}
	if sources > 1 {
		return Volume{}, badRequest("Invalid input: only one of imageRef, source_volid and snapshot_id may be given.")
	}
	if req.SizeGB < 0 || (req.SizeGB == 0 && req.SnapshotID == "" && req.SourceVolumeID == "") {
		return Volume{}, badRequest("Invalid input for field/attribute size: a positive integer number of GiB is required.")
	}
	v := Volume{
		ID: uuid.NewString(), Name: req.Name, Description: req.Description, ProjectID: c.ProjectID, UserID: c.UserID,
		SizeGB: req.SizeGB, Status: StatusCreating, Metadata: req.Metadata, ImageMetadata: map[string]string{},
		SourceVolumeID: req.SourceVolumeID, SnapshotID: req.SnapshotID, HostID: req.HostID,
	}
	if v.Metadata == nil {
		v.Metadata = map[string]string{}
	}
	var taskSubject string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		typ, err := s.findType(ctx, tx, c, req.Type)
		if err != nil {
			return err
		}
		v.TypeID, v.TypeName = typ.ID, typ.Name
		if err := s.fillFromSource(ctx, tx, c, &v, req); err != nil {
			return err
		}
		taskSubject = v.ID
		if v.SourceVolumeID != "" {
			// The clone queues behind the source's own tasks (an attach), so
			// it never copies a disk a guest is writing.
			taskSubject = v.SourceVolumeID
		}
		if v.HostID == "" {
			if v.HostID, v.AvailabilityZone, err = s.placeVolume(ctx, tx, req.AvailabilityZone); err != nil {
				return err
			}
		}
		if v.AvailabilityZone == "" {
			if err := tx.QueryRow(ctx, "SELECT availability_zone FROM hosts WHERE id = $1", v.HostID).Scan(&v.AvailabilityZone); err != nil {
				return err
			}
		}
		if err := s.reserve(ctx, tx, c.ProjectID, v.TypeName, map[string]int64{"volumes": 1, "gigabytes": int64(v.SizeGB)}, v.SizeGB); err != nil {
			return err
		}
		md, _ := json.Marshal(v.Metadata)
		imd, _ := json.Marshal(v.ImageMetadata)
		if err := tx.QueryRow(ctx, `INSERT INTO volumes (id, name, description, project_id, user_id, size_gb, type_id, status, host_id,
				availability_zone, bootable, source_image_id, source_volume_id, snapshot_id, metadata, image_metadata)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, nullif($12, ''), nullif($13, ''), nullif($14, ''), $15, $16)
			RETURNING created_at, updated_at`,
			v.ID, v.Name, v.Description, v.ProjectID, v.UserID, v.SizeGB, v.TypeID, v.Status, v.HostID,
			v.AvailabilityZone, v.Bootable, v.SourceImageID, v.SourceVolumeID, v.SnapshotID, md, imd).Scan(&v.CreatedAt, &v.UpdatedAt); err != nil {
			return db.Interpret(err, "volume")
		}
		return s.enqueue(ctx, tx, taskSubject, taskCreate, volumeArgs{VolumeID: v.ID})
	})
	if err != nil {
		return Volume{}, overQuota(err)
	}
	s.tasks.Nudge()
	return v, nil // as committed: the task may have moved it on already
}

// fillFromSource checks the source of a new volume and takes from it what
// the volume inherits: size (when not given), type, host, bootability.
func (s *Service) fillFromSource(ctx context.Context, tx pgx.Tx, c *token.Claims, v *Volume, req CreateRequest) error {
	switch {
	case req.ImageID != "":
		img, err := s.Images.Get(ctx, c, req.ImageID)
		if err != nil {
			if e, _ := osapi.AsError(err); e.Status == http.StatusNotFound {
				return badRequest("Invalid image identifier or unable to access requested image.")
			}
			return err
		}
		if img.Status != "active" {
			return badRequest("Image %s is not active.", img.ID)
		}
		if img.DiskFormat != "qcow2" && img.DiskFormat != "raw" {
			return badRequest("Image %s has disk format %q; volumes are made from qcow2 or raw images.", img.ID, img.DiskFormat)
		}
		if vsize := img.VirtualSize; vsize > int64(v.SizeGB)<<30 {
			return badRequest("Image virtual size is %dGB and doesn't fit in a volume of size %dGB.", (vsize+1<<30-1)>>30, v.SizeGB)
		}
		if img.MinDisk > v.SizeGB {
			return badRequest("Volume size %dGB cannot be smaller than the image minDisk size %dGB.", v.SizeGB, img.MinDisk)
		}
		v.SourceImageID, v.Bootable = img.ID, true
		v.ImageMetadata = map[string]string{"image_id": img.ID, "image_name": img.Name, "disk_format": img.DiskFormat,
			"container_format": img.ContainerFormat, "min_disk": fmt.Sprint(img.MinDisk), "min_ram": fmt.Sprint(img.MinRAM),
			"size": fmt.Sprint(img.Size)}
	case req.SnapshotID != "":
		snap, err := s.visibleSnapshot(ctx, tx, c, req.SnapshotID, policy.Read)
		if err != nil {
			return badRequestIfMissing(err, "Invalid snapshot: snapshot %s could not be found.", req.SnapshotID)
		}
		if snap.Status != StatusAvailable {
			return badRequest("Invalid snapshot: Originating snapshot status must be available, but it is %s.", snap.Status)
		}
		src, err := s.getVolume(ctx, tx, snap.VolumeID, false)
		if err != nil {
			return err
		}
		return inherit(v, src, snap.SizeGB, "snapshot")
	case req.SourceVolumeID != "":
		src, err := s.visible(ctx, tx, c, req.SourceVolumeID, policy.Read, true)
		if err != nil {
			return badRequestIfMissing(err, "Invalid volume: source volume %s could not be found.", req.SourceVolumeID)
		}
		if src.Status != StatusAvailable {
			return badRequest("Invalid volume: Source volume status must be available to clone, but it is %s.", src.Status)
		}
		return inherit(v, src, src.SizeGB, "source volume")
	}
	return nil
}

// inherit gives a clone its source's host, type and bootability.
func inherit(v *Volume, src Volume, srcSize int, what string) error {
	if v.SizeGB == 0 {
		v.SizeGB = srcSize
	}
	if v.SizeGB < srcSize {
		return badRequest("Invalid input received: Volume size '%d'GB cannot be smaller than the %s size %dGB.", v.SizeGB, what, srcSize)
	}
	if v.HostID != "" && v.HostID != src.HostID {
		return osapi.Errorf(http.StatusConflict, "The %s lives on host %s; volumes are host-local and cannot be copied to another host.", what, src.HostName)
	}
	v.HostID, v.AvailabilityZone, v.Bootable = src.HostID, src.AvailabilityZone, src.Bootable
	v.TypeID, v.TypeName = src.TypeID, src.TypeName
	v.ImageMetadata = src.ImageMetadata
	return nil
}

func badRequestIfMissing(err error, format string, args ...any) error {
	if e, _ := osapi.AsError(err); e.Status == http.StatusNotFound {
		return badRequest(format, args...)
	}
	return err
}

// placeVolume picks the host for a new volume: up and enabled, in zone az
// when given, holding the fewest gigabytes of volumes.
func (s *Service) placeVolume(ctx context.Context, tx pgx.Tx, az string) (hostID, zone string, err error) {
	if az != "" {
		var known bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM hosts WHERE availability_zone = $1)", az).Scan(&known); err != nil {
			return "", "", err
		}
		if !known {
			return "", "", badRequest("Invalid input received: Availability zone '%s' is invalid.", az)
		}
	}
	err = tx.QueryRow(ctx, `SELECT h.id::text, h.availability_zone FROM hosts h
			LEFT JOIN volumes v ON v.host_id = h.id AND NOT v.deleted
		WHERE h.enabled AND h.up AND ($1 = '' OR h.availability_zone = $1)
		GROUP BY h.id ORDER BY coalesce(sum(v.size_gb), 0), h.name LIMIT 1`, az).Scan(&hostID, &zone)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", osapi.Errorf(http.StatusServiceUnavailable, "No valid backend was found: no host is up to hold the volume.")
	}
	return hostID, zone, err
}

// ListFilter narrows List.
type ListFilter struct {
	AllProjects      bool
	ProjectID        string
	Name, Status     string
	Bootable         *bool
	AvailabilityZone string
	Metadata         map[string]string
	Page             osapi.Page
}

// List returns volumes newest first, limit/marker paginated.
func (s *Service) List(ctx context.Context, c *token.Claims, f ListFilter) ([]Volume, error) {
	project := c.ProjectID
	if f.AllProjects && policy.IsAdmin(c) {
		project = f.ProjectID
	}
	if err := policy.Authorize(c, policy.Read, project, "volumes"); err != nil {
		return nil, err
	}
	var markerCreated time.Time
	var markerID string
	if f.Page.Marker != "" {
		if err := s.pool.QueryRow(ctx, "SELECT created_at, id FROM volumes WHERE id = $1", f.Page.Marker).Scan(&markerCreated, &markerID); err != nil {
			return nil, badRequest("Invalid input received: marker [%s] not found.", f.Page.Marker)
		}
	}
	md := []byte("{}")
	if len(f.Metadata) > 0 {
		md, _ = json.Marshal(f.Metadata)
	}
	rows, _ := s.pool.Query(ctx, "SELECT "+volumeCols+volumeFrom+`
		WHERE NOT v.deleted AND ($1 = '' OR v.project_id = $1) AND ($2 = '' OR v.name = $2) AND ($3 = '' OR v.status = $3)
		  AND ($4::boolean IS NULL OR v.bootable = $4) AND ($5 = '' OR v.availability_zone = $5) AND v.metadata @> $6
		  AND ($7 = '' OR (v.created_at, v.id) < ($8, $7))
		ORDER BY v.created_at DESC, v.id DESC LIMIT $9`,
		project, f.Name, f.Status, f.Bootable, f.AvailabilityZone, md, markerID, markerCreated, f.Page.Limit)
	return pgx.CollectRows(rows, scanVolume)
}

// Update changes a volume's name and description (nil keeps them).
func (s *Service) Update(ctx context.Context, c *token.Claims, id string, name, description *string, md map[string]string) (Volume, error) {
	for field, v := range map[string]*string{"name": name, "description": description} {
		if v != nil {
			if err := validateText(field, *v, 255); err != nil {
				return Volume{}, err
			}
		}
	}
	if err := validateMetadata(md); err != nil {
		return Volume{}, err
	}
	if _, err := s.visible(ctx, s.pool, c, id, policy.Write, false); err != nil {
		return Volume{}, err
	}
	var raw []byte
	if md != nil {
		raw, _ = json.Marshal(md)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE volumes SET name = coalesce($2, name), description = coalesce($3, description),
		metadata = coalesce($4, metadata), updated_at = now() WHERE id = $1`, id, name, description, raw); err != nil {
		return Volume{}, err
	}
	return s.getVolume(ctx, s.pool, id, false)
}

// SetMetadata replaces (replace) or merges a volume's metadata; DeleteMetadata removes one key.
func (s *Service) SetMetadata(ctx context.Context, c *token.Claims, id string, md map[string]string, replace bool) (map[string]string, error) {
	if err := validateMetadata(md); err != nil {
		return nil, err
	}
	var out map[string]string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		v, err := s.visible(ctx, tx, c, id, policy.Write, true)
		if err != nil {
			return err
		}
		out = md
		if !replace {
			out = v.Metadata
			for k, val := range md {
				out[k] = val
			}
		}
		raw, _ := json.Marshal(out)
		_, err = tx.Exec(ctx, "UPDATE volumes SET metadata = $2, updated_at = now() WHERE id = $1", id, raw)
		return err
	})
	return out, err
}

// DeleteMetadata removes one metadata key; a missing key is 404.
func (s *Service) DeleteMetadata(ctx context.Context, c *token.Claims, id, key string) error {
	if _, err := s.visible(ctx, s.pool, c, id, policy.Write, false); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, "UPDATE volumes SET metadata = metadata - $2, updated_at = now() WHERE id = $1 AND metadata ? $2", id, key)
	if err == nil && tag.RowsAffected() == 0 {
		return osapi.Errorf(http.StatusNotFound, "Volume %s has no metadata with key %s.", id, key)
	}
	return err
}

// SetBootable marks a volume bootable or not (os-set_bootable).
func (s *Service) SetBootable(ctx context.Context, c *token.Claims, id string, bootable bool) error {
	if _, err := s.visible(ctx, s.pool, c, id, policy.Write, false); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, "UPDATE volumes SET bootable = $2, updated_at = now() WHERE id = $1", id, bootable)
	return err
}

// Delete starts removing a volume: it must be detached, in a deletable
// status and without snapshots; its disk is removed by a task.
func (s *Service) Delete(ctx context.Context, c *token.Claims, id string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		v, err := s.visible(ctx, tx, c, id, policy.Write, true)
		if err != nil {
			return err
		}
		if err := checkDeletable(ctx, tx, v); err != nil {
			return err
		}
		if err := s.transition(ctx, tx, &v, "delete", StatusDeleting, deletable...); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, id, taskDelete, volumeArgs{VolumeID: id})
	})
	if err == nil {
		s.tasks.Nudge()
	}
	return err
}

// checkDeletable refuses to delete a volume (read under its row lock)
// that is attached or has snapshots, as Cinder does even when forced.
func checkDeletable(ctx context.Context, tx pgx.Tx, v Volume) error {
	if len(v.Attachments) > 0 {
		return badRequest("Invalid volume: Volume %s is attached to server %s; detach it before deleting it.", v.ID, v.Attachments[0].ServerID)
	}
	var snaps int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM volume_snapshots WHERE volume_id = $1 AND NOT deleted", v.ID).Scan(&snaps); err != nil {
		return err
	}
	if snaps > 0 {
		return badRequest("Invalid volume: Volume %s still has %d dependent snapshots.", v.ID, snaps)
	}
	return nil
}

// Extend grows a volume (os-extend), online when it is attached.
func (s *Service) Extend(ctx context.Context, c *token.Claims, id string, newSize int) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		v, err := s.visible(ctx, tx, c, id, policy.Write, true)
		if err != nil {
			return err
		}
		if newSize <= v.SizeGB {
			return badRequest("Invalid input received: New size for extend must be greater than current size. (current: %d, extended: %d).", v.SizeGB, newSize)
		}
		back := v.Status
		if err := s.transition(ctx, tx, &v, "extend", StatusExtending, StatusAvailable, StatusInUse); err != nil {
			return err
		}
		if err := s.reserve(ctx, tx, v.ProjectID, v.TypeName, map[string]int64{"gigabytes": int64(newSize - v.SizeGB)}, newSize); err != nil {
			return err
		}
		// The size is reserved now, so concurrent creates see it; a
		// failed extension puts the old size back.
		if _, err := tx.Exec(ctx, "UPDATE volumes SET size_gb = $2 WHERE id = $1", id, newSize); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, id, taskExtend, volumeArgs{VolumeID: id, OldSize: v.SizeGB, NewSize: newSize, Status: back})
	})
	if err != nil {
		return overQuota(err)
	}
	s.tasks.Nudge()
	return nil
}

// host returns the hypervisor host a volume lives on.
func (s *Service) host(v Volume) (*hypervisor.Host, error) {
	h, ok := s.Hosts.Host(v.HostURI)
	if !ok {
		return nil, fmt.Errorf("host %q of volume %s is not connected", v.HostName, v.ID)
	}
	return h, nil
}

// emit records a volume lifecycle event with what billing needs.
func emit(ctx context.Context, tx pgx.Tx, what string, v Volume, extra map[string]any) error {
	data := map[string]any{
		"volume_id": v.ID, "name": v.Name, "project_id": v.ProjectID, "user_id": v.UserID, "size_gb": v.SizeGB,
		"volume_type_id": v.TypeID, "volume_type": v.TypeName, "host": v.HostName, "availability_zone": v.AvailabilityZone,
		"status": v.Status,
	}
	for k, val := range extra {
		data[k] = val
	}
	return outbox.Emit(ctx, tx, "/volume", "stratus.volume.volume."+what, v.ID, data)
}

// Zone is an availability zone volumes can be created in.
type Zone struct {
	Name      string
	Available bool // some host of the zone is up and enabled
}

// Zones lists the zones of the hosts.
func (s *Service) Zones(ctx context.Context, c *token.Claims) ([]Zone, error) {
	if err := policy.Authorize(c, policy.Read, "", "availability zones"); err != nil {
		return nil, err
	}
	rows, _ := s.pool.Query(ctx, "SELECT availability_zone, bool_or(enabled AND up) FROM hosts GROUP BY availability_zone ORDER BY availability_zone")
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Zone])
}

// statuses is every volume status, for os-reset_status.
var statuses = []string{StatusCreating, StatusAvailable, StatusReserved, StatusAttaching, StatusInUse, StatusDetaching,
	StatusExtending, StatusDeleting, StatusError, StatusErrorDeleting, StatusErrorExtending}

// ResetStatus sets a volume's status by hand (admin, os-reset_status), the
// operator's way out of a status a failure left behind. The disk is not
// touched; a volume reset to available is detached in the records (as
// Cinder's attach_status), so it can be attached again.
func (s *Service) ResetStatus(ctx context.Context, c *token.Claims, id, status string) error {
	if err := policy.Authorize(c, policy.Admin, "", "volume status"); err != nil {
		return err
	}
	if !slices.Contains(statuses, status) {
		return badRequest("Invalid input received: %q is not a volume status.", status)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := s.getVolume(ctx, tx, id, true); err != nil {
			return err
		}
		if status == StatusAvailable {
			if _, err := tx.Exec(ctx, "DELETE FROM volume_attachments WHERE volume_id = $1", id); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, "UPDATE volumes SET status = $2, updated_at = now() WHERE id = $1", id, status)
		return err
	})
}

// ForceDelete deletes a detached volume without snapshots whatever its
// status (admin, os-force_delete); its disk is removed by a task.
func (s *Service) ForceDelete(ctx context.Context, c *token.Claims, id string) error {
	if err := policy.Authorize(c, policy.Admin, "", "volumes"); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		v, err := s.getVolume(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := checkDeletable(ctx, tx, v); err != nil {
			return err
		}
		return s.discard(ctx, tx, id)
	})
	if err == nil {
		s.tasks.Nudge()
	}
	return err
}

// OnHost counts the volumes (not deleted) that live on a host.
func (s *Service) OnHost(ctx context.Context, hostID string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, "SELECT count(*) FROM volumes WHERE host_id = $1 AND NOT deleted", hostID).Scan(&n)
	return n, err
}
