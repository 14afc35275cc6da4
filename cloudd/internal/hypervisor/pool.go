package hypervisor

import (
	"errors"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"libvirt.org/go/libvirt"
)

// Sentinel errors; wrapped errors say which host and server.
var (
	// ErrNotFound: no such domain on the host.
	ErrNotFound = errors.New("hypervisor: server not found")
	// ErrHostDown: the host's connection is down (or the host was removed);
	// the call was not attempted.
	ErrHostDown = errors.New("hypervisor: host is down")
	// ErrImageNotCached: CreateServer needs EnsureImage first.
	ErrImageNotCached = errors.New("hypervisor: image not cached on host")
	// ErrInvalidState: the server's power state does not allow the
	// operation (a soft reboot of a stopped server, a resize of a running
	// one, shrinking a disk).
	ErrInvalidState = errors.New("hypervisor: operation not valid in the server's state")
)

// Config tunes a Pool. The zero value gives the defaults.
type Config struct {
	// ImagesPool and ImagesDir name the dir storage pool of cached base
	// images and its directory on the host, used when the pool has to be
	// created (an existing pool keeps its own path). Defaults:
	// "stratus-images", /var/lib/stratus/hosts/images.
	ImagesPool, ImagesDir string
	// InstancesPool and InstancesDir: the same for server disks, config
	// drives and console logs. Defaults: "stratus-instances",
	// /var/lib/stratus/hosts/instances.
	InstancesPool, InstancesDir string
	// VolumesPool and VolumesDir: the same for block storage volumes and
	// their snapshots. Defaults: "stratus-volumes",
	// /var/lib/stratus/hosts/volumes.
	VolumesPool, VolumesDir string
	// VirtType forces "kvm" or "qemu"; empty means STRATUS_VIRT_TYPE, and
	// when that is empty too, detection from the host's capabilities.
	VirtType string
	// ShutdownTimeout bounds a graceful Stop before the domain is destroyed
	// (default 60 s, Nova's clean shutdown timeout).
	ShutdownTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between reconnection attempts
	// (defaults 1 s and 1 min).
	MinBackoff, MaxBackoff time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.ImagesPool, "stratus-images")
	def(&c.ImagesDir, "/var/lib/stratus/hosts/images")
	def(&c.InstancesPool, "stratus-instances")
	def(&c.InstancesDir, "/var/lib/stratus/hosts/instances")
	def(&c.VolumesPool, "stratus-volumes")
	def(&c.VolumesDir, "/var/lib/stratus/hosts/volumes")
	def(&c.VirtType, os.Getenv("STRATUS_VIRT_TYPE"))
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 60 * time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(time.Minute, c.MinBackoff)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Pool keeps one libvirt connection per host URI; a host that fails is
// marked down and reconnected in the background without stalling calls to
// other hosts.
type Pool struct {
	cfg Config

	mu     sync.Mutex
	hosts  map[string]*Host
	closed bool
}

// NewPool returns a Pool with the default Config.
func NewPool() *Pool { return NewPoolWithConfig(Config{}) }

// NewPoolWithConfig returns a Pool with cfg (zero fields take defaults).
func NewPoolWithConfig(cfg Config) *Pool {
	cfg = cfg.withDefaults()
	startEventLoop(cfg.Logger)
	return &Pool{cfg: cfg, hosts: make(map[string]*Host)}
}

// Add returns the host for uri, adding it if it is new; the connection is
// made in the background. Calls made before the first attempt has finished
// wait for it (bounded by their context).
func (p *Pool) Add(uri string) *Host {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h, ok := p.hosts[uri]; ok {
		return h
	}
	h := newHost(uri, &p.cfg)
	if p.closed {
		// A closed pool hands out hosts that never connect, so late
		// callers get ErrHostDown instead of a leaked connection.
		h.closed, h.downErr = true, errors.New("pool closed")
		close(h.attempted)
		return h
	}
	h.start()
	p.hosts[uri] = h
	return h
}

// Host returns the host for uri, if it was added.
func (p *Pool) Host(uri string) (*Host, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	h, ok := p.hosts[uri]
	return h, ok
}

// Hosts returns every host, ordered by URI.
func (p *Pool) Hosts() []*Host {
	p.mu.Lock()
	hosts := make([]*Host, 0, len(p.hosts))
	for _, h := range p.hosts {
		hosts = append(hosts, h)
	}
	p.mu.Unlock()
	sort.Slice(hosts, func(i, j int) bool { return hosts[i].uri < hosts[j].uri })
	return hosts
}

// Remove closes the host's connection and forgets it; calls through an old
// *Host then fail with ErrHostDown.
func (p *Pool) Remove(uri string) {
	p.mu.Lock()
	h, ok := p.hosts[uri]
	delete(p.hosts, uri)
	p.mu.Unlock()
	if ok {
		h.shutdown()
	}
}

// Close shuts every host down and waits for their goroutines. A connection
// attempt in progress is waited for: libvirt cannot cancel one.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	hosts := p.hosts
	p.hosts = map[string]*Host{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Go(h.shutdown)
	}
	wg.Wait()
}

var eventLoopOnce sync.Once

// startEventLoop registers and runs libvirt's default event loop, once per
// process. It must precede the first connection: the remote driver hooks
// keepalives and the close callback into it, and lifecycle events are
// dispatched from it. libvirt has no way to stop it, so it runs for the
// life of the process.
func startEventLoop(log *slog.Logger) {
	eventLoopOnce.Do(func() {
		if err := libvirt.EventRegisterDefaultImpl(); err != nil {
			log.Error("libvirt event loop unavailable: no power events, keepalives or close notices", "err", err)
			return
		}
		go func() {
			for {
				if err := libvirt.EventRunDefaultImpl(); err != nil {
					log.Error("libvirt event loop iteration failed", "err", err)
					time.Sleep(time.Second)
				}
			}
		}()
	})
}
