package compute

import (
	"context"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor"
	"github.com/stratus-cloud/stratus/cloudd/internal/image"
	"github.com/stratus-cloud/stratus/internal/quota"
	"github.com/stratus-cloud/stratus/internal/tasks"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Images is what compute needs of the image service: boot sources and
// snapshot targets.
type Images interface {
	Get(ctx context.Context, c *token.Claims, id string) (image.Image, error)
	Open(ctx context.Context, id string) (io.ReadCloser, int64, error)
	Create(ctx context.Context, c *token.Claims, img image.Image) (image.Image, error)
	Upload(ctx context.Context, c *token.Claims, id string, r io.Reader) (image.Image, error)
	Delete(ctx context.Context, c *token.Claims, id string) error
}

// Config tunes the compute service; zero values take the defaults.
type Config struct {
	Workers      int           // concurrent task workers; default 16, negative for none (an API-only replica)
	TaskLease    time.Duration // a task not finished within this is retried; default 5m
	MaxAttempts  int           // a task failing this often marks its server ERROR; default 3
	PollInterval time.Duration // idle workers look for tasks this often; default 200ms
	SyncInterval time.Duration // hosts and power states are reconciled this often; default 10s
	Pack         bool          // weigh hosts to fill them up instead of spreading servers
	Now          func() time.Time
}

// Service is the compute domain over PostgreSQL and the hypervisor hosts.
type Service struct {
	pool   *pgxpool.Pool
	cfg    Config
	Quotas *quota.Store
	Images Images
	Hosts  *hypervisor.Pool
	// Volumes is told about deleted servers; nil without block storage.
	Volumes Volumes
	// Networking gives servers their ports; nil: servers boot without NICs.
	Networking Networking

	tasks   *tasks.Runner
	cloudID string // this deployment's id, set by ConnectHosts
}

// New returns the compute service.
func New(pool *pgxpool.Pool, images Images, hosts *hypervisor.Pool, cfg Config) *Service {
	if cfg.Workers == 0 {
		cfg.Workers = 16
	}
	if cfg.TaskLease == 0 {
		cfg.TaskLease = 5 * time.Minute
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 200 * time.Millisecond
	}
	if cfg.SyncInterval == 0 {
		cfg.SyncInterval = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{
		pool: pool, cfg: cfg, Images: images, Hosts: hosts,
		Quotas: &quota.Store{Pool: pool, Defaults: QuotaDefaults},
	}
	s.tasks = s.newRunner()
	return s
}
