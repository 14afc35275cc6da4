// Package image owns the images of the cloud (Glance v2 semantics): their
// records and state machine in PostgreSQL, who may see and change them,
// their members, and their data in the content store on the control node.
// Every byte of data is hashed and format-inspected (package format)
// before an image can become active. It is the domain and storage layer;
// the Glance wire format lives in package glance, and compute uses the Go
// API (Get, Open, Create, Upload) directly.
package image

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stratus-cloud/stratus/internal/outbox"
)

// Image is an image record. Empty strings mean "not set"; Size,
// VirtualSize and the hashes are known once the data is in.
type Image struct {
	ID, Name, Status, DiskFormat, ContainerFormat, Visibility, Owner string
	Size, VirtualSize                                                int64
	MinDisk, MinRAM                                                  int // GiB, MiB
	Protected                                                        bool
	Checksum, HashAlgo, HashValue                                    string // md5 hex; os_hash_algo; os_hash_value hex
	Properties                                                       map[string]string
	Tags                                                             []string
	CreatedAt, UpdatedAt                                             time.Time
}

// Image statuses, as Glance names them: queued (a record without data),
// saving (data arriving through PUT file), uploading (data staged for an
// import), active, deactivated (data withheld from non-admins) and killed
// (an upload broke off midway; the record is kept for inspection).
const (
	StatusQueued      = "queued"
	StatusSaving      = "saving"
	StatusUploading   = "uploading"
	StatusActive      = "active"
	StatusDeactivated = "deactivated"
	StatusKilled      = "killed"
)

// Visibilities: private (owner only), shared (owner and members),
// community (anyone, listed on request) and public (anyone; admin only).
const (
	Private   = "private"
	Shared    = "shared"
	Community = "community"
	Public    = "public"
)

// HashAlgo is the os_hash_algo of every image, Glance's default.
const HashAlgo = "sha512"

// DefaultMaxSize is the largest image accepted unless configured, 20 GiB.
const DefaultMaxSize int64 = 20 << 30

// Config tunes the image service; zero values take the defaults.
type Config struct {
	StateDir string // the content store is <StateDir>/images
	MaxSize  int64  // largest image data accepted, bytes (413 above); default DefaultMaxSize
}

// Service is the image domain over PostgreSQL and the content store.
type Service struct {
	pool    *pgxpool.Pool
	cfg     Config
	content *contentStore
}

// New returns the service, creating the content store if needed.
func New(pool *pgxpool.Pool, cfg Config) (*Service, error) {
	if cfg.StateDir == "" {
		return nil, errors.New("image service: a state directory is required for the content store")
	}
	if cfg.MaxSize == 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	content, err := newContentStore(filepath.Join(cfg.StateDir, "images"))
	if err != nil {
		return nil, fmt.Errorf("image content store: %w", err)
	}
	return &Service{pool: pool, cfg: cfg, content: content}, nil
}

// MaxSize is the largest image data the service accepts, in bytes.
func (s *Service) MaxSize() int64 { return s.cfg.MaxSize }

// Lifecycle events, for metering and auditing.
const eventSource = "/image"

// emit records stratus.image.<what> for img inside tx.
func emit(ctx context.Context, tx pgx.Tx, what string, img Image) error {
	return outbox.Emit(ctx, tx, eventSource, "stratus.image."+what, img.ID, map[string]any{
		"image_id": img.ID, "name": img.Name, "owner": img.Owner, "status": img.Status,
		"visibility": img.Visibility, "disk_format": img.DiskFormat, "container_format": img.ContainerFormat,
		"size": img.Size, "virtual_size": img.VirtualSize,
	})
}
