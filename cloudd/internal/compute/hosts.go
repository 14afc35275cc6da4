package compute

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

// Host is a hypervisor host as compute records it.
type Host struct {
	ID               string
	URI              string
	Name             string
	Hostname         string
	AvailabilityZone string
	Enabled          bool
	Up               bool
	VirtType         string
	Arch             string
	VCPUs            int
	MemoryMB         int64
	DiskGB           int64
	UsedVCPUs        int64
	UsedRAMMB        int64
	UsedDiskGB       int64
	RunningVMs       int64
}

// AddHost registers a libvirt URI as a host (idempotent) and connects to it.
func (s *Service) AddHost(ctx context.Context, uri, zone string) (Host, error) {
	if !strings.Contains(uri, "://") {
		return Host{}, osapi.Errorf(http.StatusBadRequest, "Host %q is not a libvirt URI.", uri)
	}
	if zone == "" {
		zone = DefaultZone
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO hosts (uri, name, availability_zone) VALUES ($1, $2, $3)
		ON CONFLICT (uri) DO UPDATE SET availability_zone = excluded.availability_zone`, uri, hostName(uri), zone); err != nil {
		return Host{}, err
	}
	s.watch(s.Hosts.Add(uri))
	if err := s.refreshHost(ctx, uri); err != nil {
		return Host{}, err
	}
	return s.getHost(ctx, "uri", uri)
}

// DefaultZone is Nova's default availability zone.
const DefaultZone = "nova"

// hostName is a short, stable name for a URI: "test:///tmp/h1.xml" -> "h1",
// "qemu+ssh://kvm3/system" -> "kvm3", "qemu:///system" -> "localhost".
func hostName(uri string) string {
	scheme, rest, _ := strings.Cut(uri, "://")
	host, path, _ := strings.Cut(rest, "/")
	switch {
	case host != "":
		return host[strings.LastIndex(host, "@")+1:]
	case strings.HasPrefix(scheme, "test") && path != "default":
		base := path[strings.LastIndex(path, "/")+1:]
		return strings.TrimSuffix(base, ".xml")
	case strings.HasPrefix(scheme, "test"):
		return "test-default"
	}
	return "localhost"
}

// RemoveHost forgets a host that no server uses.
func (s *Service) RemoveHost(ctx context.Context, id string) error {
	h, err := s.getHost(ctx, "id", id)
	if err != nil {
		return err
	}
	var used int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM servers WHERE host_id = $1 AND NOT deleted", id).Scan(&used); err != nil {
		return err
	}
	if used > 0 {
		return osapi.Errorf(http.StatusConflict, "Host %s still has %d servers.", h.Name, used)
	}
	if s.Volumes != nil {
		if used, err = s.Volumes.OnHost(ctx, id); err != nil || used > 0 {
			return cmpErr(err, osapi.Errorf(http.StatusConflict, "Host %s still has %d volumes.", h.Name, used))
		}
	}
	if _, err := s.pool.Exec(ctx, "DELETE FROM hosts WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM servers WHERE host_id = $1)", id); err != nil {
		return db.Interpret(err, "host")
	}
	s.Hosts.Remove(h.URI)
	return nil
}

// refreshHost records a host's reachability and capacity.
func (s *Service) refreshHost(ctx context.Context, uri string) error {
	h, ok := s.Hosts.Host(uri)
	if !ok {
		h = s.Hosts.Add(uri)
	}
	info, err := h.Info(ctx)
	if err != nil || !h.Up() {
		_, err := s.pool.Exec(ctx, "UPDATE hosts SET up = false, updated_at = now() WHERE uri = $1", uri)
		return err
	}
	_, err = s.pool.Exec(ctx, `UPDATE hosts SET up = true, hostname = $2, virt_type = $3, arch = $4, vcpus = $5, memory_mb = $6,
		disk_gb = $7, updated_at = now() WHERE uri = $1`, uri, info.Hostname, info.VirtType, info.Arch, info.VCPUs, info.MemoryMiB, info.DiskGiB)
	return err
}

const hostCols = `h.id::text, h.uri, h.name, h.hostname, h.availability_zone, h.enabled, h.up, h.virt_type, h.arch,
	h.vcpus, h.memory_mb, h.disk_gb,
	coalesce(sum(s.vcpus), 0), coalesce(sum(s.ram_mb), 0), coalesce(sum(s.disk_gb), 0), count(s.id)`

func scanHost(row pgx.CollectableRow) (Host, error) {
	var h Host
	err := row.Scan(&h.ID, &h.URI, &h.Name, &h.Hostname, &h.AvailabilityZone, &h.Enabled, &h.Up, &h.VirtType, &h.Arch,
		&h.VCPUs, &h.MemoryMB, &h.DiskGB, &h.UsedVCPUs, &h.UsedRAMMB, &h.UsedDiskGB, &h.RunningVMs)
	return h, err
}

func (s *Service) getHost(ctx context.Context, col, v string) (Host, error) {
	rows, _ := s.pool.Query(ctx, "SELECT "+hostCols+` FROM hosts h LEFT JOIN servers s ON s.host_id = h.id AND NOT s.deleted
		WHERE h.`+col+"::text = $1 GROUP BY h.id", v)
	h, err := pgx.CollectExactlyOneRow(rows, scanHost)
	if err != nil {
		return Host{}, osapi.Errorf(http.StatusNotFound, "Hypervisor %s could not be found.", v)
	}
	return h, nil
}

// GetHost returns one host by id.
func (s *Service) GetHost(ctx context.Context, id string) (Host, error) {
	return s.getHost(ctx, "id", id)
}

// ListHosts returns every host with its usage, by name.
func (s *Service) ListHosts(ctx context.Context) ([]Host, error) {
	rows, _ := s.pool.Query(ctx, "SELECT "+hostCols+` FROM hosts h LEFT JOIN servers s ON s.host_id = h.id AND NOT s.deleted
		GROUP BY h.id ORDER BY h.name`)
	return pgx.CollectRows(rows, scanHost)
}

// Zones lists availability zones and whether any host in each is up.
func (s *Service) Zones(ctx context.Context) (map[string]bool, error) {
	rows, _ := s.pool.Query(ctx, "SELECT availability_zone, bool_or(up AND enabled) FROM hosts GROUP BY availability_zone")
	zones := map[string]bool{}
	var zone string
	var up bool
	_, err := pgx.ForEachRow(rows, []any{&zone, &up}, func() error {
		zones[zone] = up
		return nil
	})
	return zones, err
}

func (s *Service) zoneExists(ctx context.Context, zone string) (bool, error) {
	zones, err := s.Zones(ctx)
	_, ok := zones[zone]
	return ok, err
}

// ConnectHosts registers uris (from settings) and connects to every known
// host. It is called once at start.
func (s *Service) ConnectHosts(ctx context.Context, uris []string) error {
	if err := s.pool.QueryRow(ctx, "SELECT id::text FROM deployment").Scan(&s.cloudID); err != nil {
		return err
	}
	for _, uri := range uris {
		if _, err := s.AddHost(ctx, uri, ""); err != nil {
			return err
		}
	}
	hosts, err := s.ListHosts(ctx)
	if err != nil {
		return err
	}
	for _, h := range hosts {
		s.watch(s.Hosts.Add(h.URI))
		if err := s.refreshHost(ctx, h.URI); err != nil {
			slog.Warn("host refresh", "host", h.Name, "err", err)
		}
	}
	return nil
}
