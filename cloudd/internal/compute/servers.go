package compute

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/image"
	"github.com/stratus-cloud/stratus/cloudd/internal/network"
	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/outbox"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Nova's vm states and task states that Stratus uses.
const (
	VMBuilding = "building"
	VMActive   = "active"
	VMStopped  = "stopped"
	VMResized  = "resized"
	VMError    = "error"
	VMDeleted  = "deleted"

	TaskScheduling       = "scheduling"
	TaskSpawning         = "spawning"
	TaskPoweringOn       = "powering-on"
	TaskPoweringOff      = "powering-off"
	TaskRebooting        = "rebooting"
	TaskRebootingHard    = "rebooting_hard"
	TaskResizePrep       = "resize_prep"
	TaskResizeFinish     = "resize_finish"
	TaskResizeReverting  = "resize_reverting"
	TaskResizeConfirming = "resize_confirming"
	TaskSnapshot         = "image_snapshot"
	TaskDeleting         = "deleting"
)

// Power states, Nova's numbers.
const (
	PowerNoState  = 0
	PowerRunning  = 1
	PowerShutdown = 4
	PowerCrashed  = 6
)

// FlavorSnapshot is the flavor a server was built or resized with.
type FlavorSnapshot struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	VCPUs  int    `json:"vcpus"`
	RAMMB  int    `json:"ram"`
	DiskGB int    `json:"disk"`
}

// Fault is why a server is in ERROR.
type Fault struct {
	Code    int       `json:"code"`
	Message string    `json:"message"`
	Created time.Time `json:"created"`
}

// Server is an instance.
type Server struct {
	ID               string
	Name             string
	ProjectID        string
	UserID           string
	Flavor           FlavorSnapshot
	OldFlavor        *FlavorSnapshot
	ImageID          string
	KeyName          string
	UserData         string
	Metadata         map[string]string
	AvailabilityZone string
	ConfigDrive      bool
	ServerGroupID    string
	HostID           string
	HostName         string
	HostURI          string
	VMState          string
	TaskState        string
	PowerState       int
	Fault            *Fault
	LaunchedAt       *time.Time
	TerminatedAt     *time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Status is Nova's server status, derived from the vm and task states.
func (s Server) Status() string {
	switch s.VMState {
	case VMBuilding:
		return "BUILD"
	case VMStopped:
		return "SHUTOFF"
	case VMResized:
		if s.TaskState == TaskResizeReverting {
			return "REVERT_RESIZE"
		}
		return "VERIFY_RESIZE"
	case VMError:
		return "ERROR"
	case VMDeleted:
		return "DELETED"
	case VMActive:
		switch s.TaskState {
		case TaskRebooting:
			return "REBOOT"
		case TaskRebootingHard:
			return "HARD_REBOOT"
		case TaskResizePrep, TaskResizeFinish:
			return "RESIZE"
		}
		return "ACTIVE"
	}
	return "UNKNOWN"
}

// CreateRequest is a validated server create.
type CreateRequest struct {
	Name             string
	FlavorID         string
	ImageID          string
	KeyName          string
	UserData         string // base64, as sent
	Metadata         map[string]string
	AvailabilityZone string
	ConfigDrive      bool
	Hints            Hints
	Networks         []network.ServerNetwork // nil: attach as Nova does with none given
	SecurityGroups   []string                // names or ids for the ports created; none: default
	// BootFromVolume: no image; the caller gives block storage the boot
	// volume for this server (volume.Service.ReserveBoot).
	BootFromVolume bool
}

// Hints are the scheduler hints Stratus honours.
type Hints struct {
	Group         string   `json:"group,omitempty"`
	SameHost      []string `json:"same_host,omitempty"`
	DifferentHost []string `json:"different_host,omitempty"`
}

func badRequest(format string, args ...any) error {
	return osapi.Errorf(http.StatusBadRequest, format, args...)
}

func validateCreate(req CreateRequest) error {
	if n := strings.TrimSpace(req.Name); n == "" || utf8.RuneCountInString(req.Name) > 255 {
		return badRequest("Invalid input for field/attribute name: a name of 1 to 255 characters is required.")
	}
	if req.FlavorID == "" {
		return badRequest("Invalid input for field/attribute flavorRef: a flavor is required.")
	}
	if req.ImageID == "" && !req.BootFromVolume {
		return badRequest("Invalid input for field/attribute imageRef: an image (or a boot volume) is required.")
	}
	if req.UserData != "" {
		raw, err := base64.StdEncoding.DecodeString(req.UserData)
		if err != nil {
			return badRequest("User data needs to be valid base 64.")
		}
		if len(raw) > 65535 {
			return badRequest("User data is larger than 65535 bytes.")
		}
	}
	return validateMetadata(req.Metadata)
}

func validateMetadata(md map[string]string) error {
	for k, v := range md {
		if k == "" || len(k) > 255 || len(v) > 255 {
			return badRequest("Invalid input for field/attribute metadata: keys must be 1 to 255 characters and values at most 255.")
		}
	}
	return nil
}

// Create validates req, checks quotas, persists the server in BUILD and
// queues its build, all in one transaction: the server exists (and will be
// built or marked ERROR) as soon as the API answers 202.
func (s *Service) Create(ctx context.Context, c *token.Claims, req CreateRequest) (Server, error) {
	if err := policy.Authorize(c, policy.Write, c.ProjectID, "servers"); err != nil {
		return Server{}, err
	}
	if err := validateCreate(req); err != nil {
		return Server{}, err
	}
	flavor, err := s.GetFlavor(ctx, c, req.FlavorID)
	if err != nil {
		return Server{}, badRequestIfMissing(err, "Flavor %s could not be found.", req.FlavorID)
	}
	var img image.Image
	if !req.BootFromVolume {
		if img, err = s.checkImage(ctx, c, req.ImageID, flavor); err != nil {
			return Server{}, err
		}
	}
	if req.KeyName != "" {
		if _, err := s.GetKeypair(ctx, c.UserID, req.KeyName); err != nil {
			return Server{}, badRequestIfMissing(err, "Invalid key_name provided.")
		}
	}
	if req.AvailabilityZone != "" {
		if ok, err := s.zoneExists(ctx, req.AvailabilityZone); err != nil || !ok {
			return Server{}, cmpErr(err, badRequest("The requested availability zone is not available"))
		}
	}
	if req.Hints.Group != "" {
		if _, err := s.GetServerGroup(ctx, c, req.Hints.Group); err != nil {
			return Server{}, badRequestIfMissing(err, "Invalid server group %s.", req.Hints.Group)
		}
	}
	if err := s.checkMetadataItems(ctx, c.ProjectID, len(req.Metadata)); err != nil {
		return Server{}, err
	}
	srv := Server{
		ID: uuid.NewString(), Name: req.Name, ProjectID: c.ProjectID, UserID: c.UserID,
		Flavor:  FlavorSnapshot{ID: flavor.ID, Name: flavor.Name, VCPUs: flavor.VCPUs, RAMMB: flavor.RAMMB, DiskGB: flavor.DiskGB},
		ImageID: img.ID, KeyName: req.KeyName, UserData: req.UserData, Metadata: req.Metadata,
		AvailabilityZone: req.AvailabilityZone, ConfigDrive: true, ServerGroupID: req.Hints.Group,
		VMState: VMBuilding, TaskState: TaskScheduling,
	}
	if srv.Metadata == nil {
		srv.Metadata = map[string]string{}
	}
	if req.BootFromVolume {
		srv.Flavor.DiskGB = 0 // no local disk: the root disk is the volume
	} else if srv.Flavor.DiskGB == 0 {
		// A zero-disk flavor boots on a disk the size of the image.
		srv.Flavor.DiskGB = int((img.VirtualSize + 1<<30 - 1) >> 30)
	}
	if err := s.attachPorts(ctx, c, srv, req); err != nil {
		return Server{}, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.reserveServer(ctx, tx, c.ProjectID, srv.Flavor); err != nil {
			return err
		}
		if srv.ServerGroupID != "" {
			if err := s.reserveGroupMember(ctx, tx, c.ProjectID, srv.ServerGroupID); err != nil {
				return err
			}
		}
		md, _ := json.Marshal(srv.Metadata)
		hints, _ := json.Marshal(req.Hints)
		err := tx.QueryRow(ctx, `INSERT INTO servers (id, name, project_id, user_id, flavor_id, vcpus, ram_mb, disk_gb, flavor_name,
				image_id, key_name, user_data, metadata, availability_zone, config_drive, server_group_id, vm_state, task_state)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, nullif($11, ''), nullif($12, ''), $13, nullif($14, ''), $15, nullif($16, ''), $17, $18)
			RETURNING created_at, updated_at`,
			srv.ID, srv.Name, srv.ProjectID, srv.UserID, srv.Flavor.ID, srv.Flavor.VCPUs, srv.Flavor.RAMMB, srv.Flavor.DiskGB, srv.Flavor.Name,
			srv.ImageID, srv.KeyName, srv.UserData, md, srv.AvailabilityZone, srv.ConfigDrive, srv.ServerGroupID, srv.VMState, srv.TaskState,
		).Scan(&srv.CreatedAt, &srv.UpdatedAt)
		if err != nil {
			return db.Interpret(err, "server")
		}
		return s.tasks.Enqueue(ctx, tx, srv.ID, taskBuild, json.RawMessage(hints))
	})
	if err != nil {
		_ = s.releasePorts(context.WithoutCancel(ctx), srv.ID)
		return Server{}, overQuota(err)
	}
	s.nudge()
	return srv, nil
}

// checkImage returns the image a server boots from, if it is active and
// fits the flavor.
func (s *Service) checkImage(ctx context.Context, c *token.Claims, id string, flavor Flavor) (image.Image, error) {
	img, err := s.Images.Get(ctx, c, id)
	if err != nil {
		return img, badRequestIfMissing(err, "Image %s could not be found.", id)
	}
	if img.Status != "active" {
		return img, badRequest("Image %s is not active.", img.ID)
	}
	if flavor.DiskGB > 0 && int64(flavor.DiskGB)<<30 < img.VirtualSize {
		return img, badRequest("Flavor's disk is too small for requested image. Flavor disk is %d bytes, image is %d bytes.", int64(flavor.DiskGB)<<30, img.VirtualSize)
	}
	if img.MinDisk > flavor.DiskGB && flavor.DiskGB > 0 {
		return img, badRequest("Flavor's disk is too small for requested image. Flavor disk is %d GiB, image requires %d GiB.", flavor.DiskGB, img.MinDisk)
	}
	if img.MinRAM > flavor.RAMMB {
		return img, badRequest("Flavor's memory is too small for requested image.")
	}
	return img, nil
}

// checkMetadataItems enforces the metadata_items quota, a per-server limit
// rather than something a project consumes, so it needs no lock.
func (s *Service) checkMetadataItems(ctx context.Context, project string, items int) error {
	limits, err := s.Quotas.Limits(ctx, s.pool, project)
	if err != nil {
		return err
	}
	if l := limits["metadata_items"]; l >= 0 && int64(items) > l {
		return osapi.Errorf(http.StatusForbidden, "Quota exceeded for metadata_items: Requested %d, but limit is %d.", items, l)
	}
	return nil
}

// reserveServer checks instances, cores and ram under the project's quota lock.
func (s *Service) reserveServer(ctx context.Context, tx pgx.Tx, project string, f FlavorSnapshot) error {
	return s.Quotas.ReserveMany(ctx, tx, project, map[string]int64{"instances": 1, "cores": int64(f.VCPUs), "ram": int64(f.RAMMB)},
		func(ctx context.Context, tx pgx.Tx) (map[string]int64, error) { return s.usage(ctx, tx, project) })
}

// reserveGroupMember checks server_group_members for group.
func (s *Service) reserveGroupMember(ctx context.Context, tx pgx.Tx, project, group string) error {
	return s.Quotas.Reserve(ctx, tx, project, "server_group_members", 1, func(ctx context.Context, tx pgx.Tx) (n int64, err error) {
		err = tx.QueryRow(ctx, "SELECT count(*) FROM servers WHERE server_group_id = $1 AND NOT deleted", group).Scan(&n)
		return n, err
	})
}

func badRequestIfMissing(err error, format string, args ...any) error {
	if e, _ := osapi.AsError(err); e.Status == http.StatusNotFound {
		return badRequest(format, args...)
	}
	return err
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

const serverCols = `s.id, s.name, s.project_id, s.user_id, s.flavor_id, s.flavor_name, s.vcpus, s.ram_mb, s.disk_gb, s.old_flavor,
	s.image_id, coalesce(s.key_name, ''), coalesce(s.user_data, ''), s.metadata, coalesce(s.availability_zone, h.availability_zone, ''),
	s.config_drive, coalesce(s.server_group_id, ''), coalesce(s.host_id::text, ''), coalesce(h.name, ''), coalesce(h.uri, ''),
	s.vm_state, coalesce(s.task_state, ''), s.power_state, s.fault, s.launched_at, s.terminated_at, s.created_at, s.updated_at`

const serverFrom = " FROM servers s LEFT JOIN hosts h ON h.id = s.host_id "

func scanServer(row pgx.CollectableRow) (Server, error) {
	var v Server
	err := row.Scan(&v.ID, &v.Name, &v.ProjectID, &v.UserID, &v.Flavor.ID, &v.Flavor.Name, &v.Flavor.VCPUs, &v.Flavor.RAMMB, &v.Flavor.DiskGB,
		&v.OldFlavor, &v.ImageID, &v.KeyName, &v.UserData, &v.Metadata, &v.AvailabilityZone, &v.ConfigDrive, &v.ServerGroupID,
		&v.HostID, &v.HostName, &v.HostURI, &v.VMState, &v.TaskState, &v.PowerState, &v.Fault, &v.LaunchedAt, &v.TerminatedAt,
		&v.CreatedAt, &v.UpdatedAt)
	return v, err
}

// Get returns a server the caller may see; other projects' servers are
// not found.
func (s *Service) Get(ctx context.Context, c *token.Claims, id string) (Server, error) {
	srv, err := s.getServer(ctx, s.pool, id)
	if err != nil {
		return Server{}, err
	}
	if err := policy.Authorize(c, policy.Read, srv.ProjectID, "server"); err != nil {
		return Server{}, notFoundServer(id, err)
	}
	return srv, nil
}

func notFoundServer(id string, err error) error {
	if e, _ := osapi.AsError(err); e.Status == http.StatusNotFound {
		return osapi.Errorf(http.StatusNotFound, "Instance %s could not be found.", id)
	}
	return err
}

func (s *Service) getServer(ctx context.Context, q db.Querier, id string) (Server, error) {
	rows, _ := q.Query(ctx, "SELECT "+serverCols+serverFrom+"WHERE s.id = $1 AND NOT s.deleted", id)
	srv, err := pgx.CollectExactlyOneRow(rows, scanServer)
	if err != nil {
		return Server{}, notFoundServer(id, db.Interpret(err, "instance "+id))
	}
	return srv, nil
}

// ListFilter narrows List.
type ListFilter struct {
	AllProjects bool   // admin only: every project's servers
	ProjectID   string // admin only, with AllProjects
	Name        string // a regular expression, as Nova
	Status      string
	Host        string // admin only
	FlavorID    string
	ImageID     string
	Page        osapi.Page
}

// List returns servers newest first, limit/marker paginated.
func (s *Service) List(ctx context.Context, c *token.Claims, f ListFilter) ([]Server, error) {
	project := c.ProjectID
	if f.AllProjects && policy.IsAdmin(c) {
		project = f.ProjectID
	}
	if project == "" && !policy.IsAdmin(c) {
		return nil, osapi.Errorf(http.StatusForbidden, "A project-scoped token is required to list servers.")
	}
	var markerCreated time.Time
	var markerID string
	if f.Page.Marker != "" {
		if err := s.pool.QueryRow(ctx, "SELECT created_at, id FROM servers WHERE id = $1", f.Page.Marker).Scan(&markerCreated, &markerID); err != nil {
			return nil, badRequest("marker [%s] not found", f.Page.Marker)
		}
	}
	if _, err := regexp.Compile(f.Name); err != nil {
		return nil, badRequest("Invalid name filter %q: %v", f.Name, err)
	}
	limit := f.Page.Limit
	if limit == 0 {
		limit = osapi.MaxPageSize
	}
	// Status is derived from vm and task state in Go; with a status filter
	// the page is cut after filtering, so it is not short of matches.
	sqlLimit := limit
	if f.Status != "" {
		sqlLimit = math.MaxInt32
	}
	rows, _ := s.pool.Query(ctx, "SELECT "+serverCols+serverFrom+`
		WHERE NOT s.deleted AND ($1 = '' OR s.project_id = $1) AND ($2 = '' OR s.name ~ $2)
		  AND ($3 = '' OR h.name = $3) AND ($4 = '' OR s.flavor_id = $4) AND ($5 = '' OR s.image_id = $5)
		  AND ($6 = '' OR (s.created_at, s.id) < ($7, $6))
		ORDER BY s.created_at DESC, s.id DESC LIMIT $8`,
		project, f.Name, f.Host, f.FlavorID, f.ImageID, markerID, markerCreated, sqlLimit)
	list, err := pgx.CollectRows(rows, scanServer)
	if err != nil {
		return nil, err
	}
	if f.Status != "" {
		kept := list[:0]
		for _, srv := range list {
			if strings.EqualFold(srv.Status(), f.Status) {
				kept = append(kept, srv)
			}
		}
		list = kept[:min(len(kept), limit)]
	}
	return list, nil
}

// Update renames a server or replaces its metadata.
func (s *Service) Update(ctx context.Context, c *token.Claims, id string, name *string) (Server, error) {
	srv, err := s.Get(ctx, c, id)
	if err != nil {
		return Server{}, err
	}
	if err := policy.Authorize(c, policy.Write, srv.ProjectID, "server"); err != nil {
		return Server{}, err
	}
	if name != nil {
		if n := strings.TrimSpace(*name); n == "" || len(*name) > 255 {
			return Server{}, badRequest("Invalid input for field/attribute name.")
		}
		if _, err := s.pool.Exec(ctx, "UPDATE servers SET name = $2, updated_at = now() WHERE id = $1", id, *name); err != nil {
			return Server{}, err
		}
	}
	return s.Get(ctx, c, id)
}

// SetMetadata replaces (replace=true) or merges server metadata.
func (s *Service) SetMetadata(ctx context.Context, c *token.Claims, id string, md map[string]string, replace bool) (map[string]string, error) {
	srv, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if err := policy.Authorize(c, policy.Write, srv.ProjectID, "server"); err != nil {
		return nil, err
	}
	if err := validateMetadata(md); err != nil {
		return nil, err
	}
	merged := md
	if !replace {
		merged = srv.Metadata
		for k, v := range md {
			merged[k] = v
		}
	}
	if err := s.checkMetadataItems(ctx, srv.ProjectID, len(merged)); err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(merged)
	_, err = s.pool.Exec(ctx, "UPDATE servers SET metadata = $2, updated_at = now() WHERE id = $1", id, raw)
	return merged, err
}

// emitServer records a lifecycle event with what billing needs.
func emitServer(ctx context.Context, tx pgx.Tx, what string, srv Server, extra map[string]any) error {
	data := map[string]any{
		"server_id": srv.ID, "name": srv.Name, "project_id": srv.ProjectID, "user_id": srv.UserID,
		"flavor_id": srv.Flavor.ID, "flavor_name": srv.Flavor.Name, "vcpus": srv.Flavor.VCPUs,
		"ram_mb": srv.Flavor.RAMMB, "disk_gb": srv.Flavor.DiskGB, "image_id": srv.ImageID,
		"host": srv.HostName, "availability_zone": srv.AvailabilityZone,
	}
	for k, v := range extra {
		data[k] = v
	}
	return outbox.Emit(ctx, tx, "/compute", "stratus.compute.server."+what, srv.ID, data)
}
