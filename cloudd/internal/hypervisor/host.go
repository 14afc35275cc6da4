package hypervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"
)

// Host is one libvirt host. Its methods are safe for concurrent use.
type Host struct {
	uri       string
	cfg       *Config
	log       *slog.Logger
	simulated bool

	mu        sync.Mutex
	sess      *session // nil while down
	downErr   error    // why sess is nil
	closed    bool
	attempted chan struct{} // closed when the first connection attempt has finished
	broken    chan struct{} // (cap 1) the current session died: reconnect now
	stop      chan struct{}
	done      chan struct{} // the connection loop has returned

	events eventQueue

	imagesMu sync.Mutex
	images   map[string]*upload // uploads in flight, by volume name

	// serverLocks serialise operations on one server id within this
	// process (a retried CreateServer racing a Delete, say) without
	// holding up other servers during a minute-long graceful Stop.
	serverLocksMu sync.Mutex
	serverLocks   map[string]*serverLock
}

type serverLock struct {
	sync.Mutex
	refs int // holders and waiters; the entry goes when it drops to 0
}

// session is one open connection and what was learnt through it.
type session struct {
	conn     *libvirt.Connect
	arch     string
	virtType string
	inflight sync.WaitGroup // calls using conn; close waits for them

	lifecycleID int // -1 when no lifecycle callback is registered

	mu        sync.Mutex
	pools     map[string]*libvirt.StoragePool // by name, active
	baseSizes map[string]uint64               // virtual size of base images, by volume name
}

func newHost(uri string, cfg *Config) *Host {
	return &Host{
		uri:         uri,
		cfg:         cfg,
		log:         cfg.Logger.With("host", uri),
		simulated:   isTestURI(uri),
		downErr:     errors.New("not connected yet"),
		attempted:   make(chan struct{}),
		broken:      make(chan struct{}, 1),
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
		images:      make(map[string]*upload),
		serverLocks: make(map[string]*serverLock),
	}
}

// start runs the connection loop and the event dispatcher.
func (h *Host) start() {
	h.events.init()
	go h.run()
}

// isTestURI reports whether uri names libvirt's test driver (test:///…,
// test+unix://…).
func isTestURI(uri string) bool {
	u, err := url.Parse(uri)
	return err == nil && (u.Scheme == "test" || strings.HasPrefix(u.Scheme, "test+"))
}

// URI is the libvirt connection URI.
func (h *Host) URI() string { return h.uri }

// Simulated reports whether the host is libvirt's test driver, where no
// guest runs and volume contents do not exist (see the package doc).
func (h *Host) Simulated() bool { return h.simulated }

// Up reports the last known connection state.
func (h *Host) Up() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sess != nil
}

// run connects, waits until the connection breaks or the host shuts down,
// and reconnects with exponential backoff. A connection that had lasted
// MaxBackoff is retried at once; one that keeps dropping right after it
// was made backs off like a failed attempt.
func (h *Host) run() {
	defer close(h.done)
	backoff := h.cfg.MinBackoff
	first := true
	for {
		s, err := h.connect()
		h.mu.Lock()
		if err == nil {
			h.sess, h.downErr = s, nil
		} else {
			h.downErr = err
		}
		h.mu.Unlock()
		if first {
			close(h.attempted)
			first = false
		}
		if err == nil {
			h.log.Info("hypervisor host connected", "virt_type", s.virtType)
			since := time.Now()
			select {
			case <-h.stop:
				return
			case <-h.broken:
			}
			if time.Since(since) >= h.cfg.MaxBackoff {
				backoff = h.cfg.MinBackoff
				continue
			}
			h.mu.Lock()
			err = h.downErr
			h.mu.Unlock()
		}
		h.log.Warn("hypervisor host unreachable; retrying", "err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-h.stop:
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, h.cfg.MaxBackoff)
	}
}

// connect opens a connection and learns the host's architecture and domain
// type.
func (h *Host) connect() (*session, error) {
	conn, err := libvirt.NewConnect(h.uri)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", readable(err))
	}
	s := &session{conn: conn, lifecycleID: -1, pools: map[string]*libvirt.StoragePool{}, baseSizes: map[string]uint64{}}
	capsXML, err := conn.GetCapabilities()
	if err != nil {
		s.close()
		return nil, fmt.Errorf("reading capabilities: %w", readable(err))
	}
	var caps libvirtxml.Caps
	if err := caps.Unmarshal(capsXML); err != nil {
		s.close()
		return nil, fmt.Errorf("parsing capabilities: %w", err)
	}
	if caps.Host.CPU != nil {
		s.arch = caps.Host.CPU.Arch
	}
	if s.virtType, err = chooseVirtType(&caps, h.cfg.VirtType); err != nil {
		s.close()
		return nil, err
	}
	// Keepalives and the close callback belong to the remote driver (which
	// qemu:///system also goes through); the test driver runs in-process
	// and its connection cannot drop.
	if !h.simulated {
		if err := conn.SetKeepAlive(5, 3); err != nil {
			h.log.Warn("libvirt keepalive unavailable; a dead connection is noticed on the next failed call", "err", err)
		}
		if err := conn.RegisterCloseCallback(func(_ *libvirt.Connect, reason libvirt.ConnectCloseReason) {
			h.drop(s, fmt.Errorf("connection closed: %s", closeReason(reason)))
		}); err != nil {
			h.log.Warn("libvirt close callback unavailable", "err", err)
		}
	}
	id, err := conn.DomainEventLifecycleRegister(nil, func(_ *libvirt.Connect, d *libvirt.Domain, e *libvirt.DomainEventLifecycle) {
		h.onLifecycle(d, e)
	})
	if err != nil {
		h.log.Warn("libvirt lifecycle events unavailable; power changes are seen by polling only", "err", err)
	} else {
		s.lifecycleID = id
	}
	return s, nil
}

func closeReason(r libvirt.ConnectCloseReason) string {
	switch r {
	case libvirt.CONNECT_CLOSE_REASON_ERROR:
		return "I/O error"
	case libvirt.CONNECT_CLOSE_REASON_EOF:
		return "end of file"
	case libvirt.CONNECT_CLOSE_REASON_KEEPALIVE:
		return "keepalive timeout"
	case libvirt.CONNECT_CLOSE_REASON_CLIENT:
		return "closed by client"
	}
	return fmt.Sprintf("reason %d", int(r))
}

// close waits for the calls still using the connection, then releases it.
// Errors are only logged at debug level: on a dead connection deregistering
// fails, and nothing else is left to do.
func (s *session) close() {
	s.inflight.Wait()
	if s.lifecycleID >= 0 {
		if err := s.conn.DomainEventDeregister(s.lifecycleID); err != nil {
			slog.Debug("deregistering lifecycle callback", "err", err)
		}
	}
	if err := s.conn.UnregisterCloseCallback(); err != nil {
		slog.Debug("unregistering close callback", "err", err)
	}
	for _, p := range s.pools {
		_ = p.Free()
	}
	if _, err := s.conn.Close(); err != nil {
		slog.Debug("closing libvirt connection", "err", err)
	}
}

// drop marks the host down because session s died, and wakes the loop.
func (h *Host) drop(s *session, cause error) {
	h.mu.Lock()
	if h.sess != s {
		h.mu.Unlock()
		return
	}
	h.sess, h.downErr = nil, cause
	h.mu.Unlock()
	h.log.Warn("hypervisor host down", "err", cause)
	select {
	case h.broken <- struct{}{}:
	default:
	}
	go s.close()
}

// shutdown stops the loop and closes the connection; the host stays down.
func (h *Host) shutdown() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		<-h.done
		return
	}
	h.closed = true
	h.mu.Unlock()
	close(h.stop)
	<-h.done
	h.mu.Lock()
	s := h.sess
	h.sess, h.downErr = nil, errors.New("host removed from the pool")
	h.mu.Unlock()
	if s != nil {
		s.close()
	}
	h.events.close()
}

// acquire returns the live session, counted in its inflight group: the
// caller must call s.inflight.Done when it no longer uses the connection.
func (h *Host) acquire(ctx context.Context) (*session, error) {
	select {
	case <-h.attempted:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sess == nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrHostDown, h.uri, h.downErr)
	}
	h.sess.inflight.Add(1)
	return h.sess, nil
}

// do runs fn on the live session. A libvirt error on a connection that is
// no longer alive marks the host down, so the next call fails fast and the
// loop reconnects.
func (h *Host) do(ctx context.Context, fn func(s *session) error) error {
	s, err := h.acquire(ctx)
	if err != nil {
		return err
	}
	defer s.inflight.Done()
	err = fn(s)
	h.checkConn(s, err)
	return err
}

func (h *Host) checkConn(s *session, err error) {
	var lerr libvirt.Error
	if err == nil || !errors.As(err, &lerr) {
		return
	}
	if alive, aerr := s.conn.IsAlive(); aerr != nil || !alive {
		h.drop(s, fmt.Errorf("connection lost: %w", readable(err)))
	}
}

// lockServer serialises operations on one server id in this process; it
// returns the unlock function.
func (h *Host) lockServer(id string) func() {
	h.serverLocksMu.Lock()
	l := h.serverLocks[id]
	if l == nil {
		l = &serverLock{}
		h.serverLocks[id] = l
	}
	l.refs++
	h.serverLocksMu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		h.serverLocksMu.Lock()
		if l.refs--; l.refs == 0 {
			delete(h.serverLocks, id)
		}
		h.serverLocksMu.Unlock()
	}
}

// HostInfo describes a host's capacity.
type HostInfo struct {
	Hostname  string
	Arch      string
	VCPUs     int
	MemoryMiB int64
	DiskGiB   int64  // capacity of the instance storage pool
	VirtType  string // "kvm" or "qemu"
}

// Info reads the host's name, CPUs, memory and instance pool capacity
// (creating the instance pool when it is missing).
func (h *Host) Info(ctx context.Context) (HostInfo, error) {
	var info HostInfo
	err := h.do(ctx, func(s *session) error {
		node, err := s.conn.GetNodeInfo()
		if err != nil {
			return h.wrap("reading node info", err)
		}
		info = HostInfo{Arch: s.arch, VCPUs: int(node.Cpus), MemoryMiB: int64(node.Memory / 1024), VirtType: s.virtType}
		if info.Hostname, err = h.hostname(s); err != nil {
			return h.wrap("reading hostname", err)
		}
		pool, err := h.storagePool(s, h.cfg.InstancesPool, h.cfg.InstancesDir)
		if err != nil {
			return err
		}
		pi, err := pool.GetInfo()
		if err != nil {
			return h.wrap("reading instance pool info", err)
		}
		info.DiskGiB = int64(pi.Capacity >> 30)
		return nil
	})
	return info, err
}

// hostname is libvirt's, except on a test:///<node file> host: the test
// driver reports this machine's name for every simulated host, which would
// make fifty simulated hosts indistinguishable, so the node file's base name
// stands in for it.
func (h *Host) hostname(s *session) (string, error) {
	if h.simulated {
		if u, err := url.Parse(h.uri); err == nil && u.Path != "/default" && u.Path != "" {
			return strings.TrimSuffix(filepath.Base(u.Path), ".xml"), nil
		}
	}
	return s.conn.GetHostname()
}

// wrap adds the host and the failed step to a libvirt error.
func (h *Host) wrap(step string, err error) error {
	return fmt.Errorf("hypervisor %s: %s: %w", h.uri, step, readable(err))
}

// libvirtError shows a libvirt error by its message (libvirt.Error prints
// "virError(Code=…, Domain=…, Message='…')"); errors.As still finds the
// libvirt.Error behind it.
type libvirtError struct{ err libvirt.Error }

func (e libvirtError) Error() string { return e.err.Message }
func (e libvirtError) Unwrap() error { return e.err }

func readable(err error) error {
	if lerr, ok := err.(libvirt.Error); ok {
		return libvirtError{lerr}
	}
	return err
}

// isCode reports whether err is a libvirt error with one of codes.
func isCode(err error, codes ...libvirt.ErrorNumber) bool {
	var lerr libvirt.Error
	if !errors.As(err, &lerr) {
		return false
	}
	for _, c := range codes {
		if lerr.Code == c {
			return true
		}
	}
	return false
}

// OnPowerChange registers fn for power changes of this host's servers, from
// libvirt lifecycle events (so a guest that powers off or crashes on its own
// is noticed). fn runs on one goroutine per host, in event order, outside
// libvirt's event loop, so it may call back into the Host; a slow fn delays
// later events of this host only. Registrations survive reconnections;
// events that happen while the host is down are lost (the reconciler's
// Servers poll covers them).
func (h *Host) OnPowerChange(fn func(id string, state PowerState)) {
	h.events.subscribe(fn)
}

func (h *Host) onLifecycle(d *libvirt.Domain, e *libvirt.DomainEventLifecycle) {
	name, err := d.GetName()
	if err != nil || !strings.HasPrefix(name, domainPrefix) {
		return
	}
	if state, ok := eventPowerState(e); ok {
		h.events.push(powerEvent{id: strings.TrimPrefix(name, domainPrefix), state: state})
	}
}

type powerEvent struct {
	id    string
	state PowerState
}

// eventQueue hands events from libvirt's event loop to the subscribers on a
// goroutine of their own. The queue is unbounded: the event loop must never
// block, and dropping a stop event would leave a server marked running.
type eventQueue struct {
	mu      sync.Mutex
	pending []powerEvent
	subs    []func(string, PowerState)
	closed  bool
	wake    chan struct{}
	done    chan struct{}
}

func (q *eventQueue) init() {
	q.wake = make(chan struct{}, 1)
	q.done = make(chan struct{})
	go q.dispatch()
}

func (q *eventQueue) subscribe(fn func(string, PowerState)) {
	q.mu.Lock()
	q.subs = append(q.subs, fn)
	q.mu.Unlock()
}

func (q *eventQueue) push(e powerEvent) {
	q.mu.Lock()
	if q.closed || len(q.subs) == 0 {
		q.mu.Unlock()
		return
	}
	q.pending = append(q.pending, e)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *eventQueue) dispatch() {
	defer close(q.done)
	for range q.wake {
		for {
			q.mu.Lock()
			if q.closed || len(q.pending) == 0 {
				closed := q.closed
				q.mu.Unlock()
				if closed {
					return
				}
				break
			}
			e := q.pending[0]
			q.pending = q.pending[1:]
			subs := q.subs
			q.mu.Unlock()
			for _, fn := range subs {
				fn(e.id, e.state)
			}
		}
	}
}

// close stops dispatching (events still queued are dropped) and waits for
// a subscriber call in progress.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	<-q.done
}
