package compute

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/tasks"
)

// candidate is a host with what is already placed on it.
type candidate struct {
	ID, Name, AZ, Arch, VirtType     string
	VCPUs                            int
	MemoryMB, DiskGB                 int64
	CPURatio, RAMRatio, DiskRatio    float64
	UsedVCPUs, UsedRAMMB, UsedDiskGB int64
	GroupMembers                     int64
	HasSameHost, HasDifferentHost    bool
}

func (h candidate) freeRAM() float64 {
	return float64(h.MemoryMB)*h.RAMRatio - float64(h.UsedRAMMB)
}

// fits is Nova's RAM, core and disk filters with allocation ratios.
func (h candidate) fits(f FlavorSnapshot) bool {
	return float64(h.VCPUs)*h.CPURatio-float64(h.UsedVCPUs) >= float64(f.VCPUs) &&
		h.freeRAM() >= float64(f.RAMMB) &&
		float64(h.DiskGB)*h.DiskRatio-float64(h.UsedDiskGB) >= float64(f.DiskGB)
}

// usageByHost sums what non-deleted servers use per host. A server waiting
// for a resize to be confirmed holds the larger of its two flavors, so a
// revert always fits.
const usageByHost = `
	SELECT h.id::text, h.name, h.availability_zone, h.arch, h.virt_type, h.vcpus, h.memory_mb, h.disk_gb,
	       h.cpu_allocation_ratio, h.ram_allocation_ratio, h.disk_allocation_ratio,
	       coalesce(sum(greatest(s.vcpus, coalesce((s.old_flavor->>'vcpus')::int, 0))), 0),
	       coalesce(sum(greatest(s.ram_mb, coalesce((s.old_flavor->>'ram')::int, 0))), 0),
	       coalesce(sum(greatest(s.disk_gb, coalesce((s.old_flavor->>'disk')::int, 0))), 0),
	       count(s.id) FILTER (WHERE $2 <> '' AND s.server_group_id = $2),
	       coalesce(bool_or(s.id = ANY($3)), false),
	       coalesce(bool_or(s.id = ANY($4)), false)
	  FROM hosts h LEFT JOIN servers s ON s.host_id = h.id AND NOT s.deleted AND s.id <> $5
	 WHERE h.enabled AND h.up AND ($1 = '' OR h.availability_zone = $1) AND ($6 = '' OR h.id::text = $6)
	 GROUP BY h.id`

func (s *Service) candidates(ctx context.Context, q pgx.Tx, srv Server, hints Hints, only string) ([]candidate, error) {
	var runner interface {
		Query(context.Context, string, ...any) (pgx.Rows, error)
	} = s.pool
	if q != nil {
		runner = q
	}
	same, different := hints.SameHost, hints.DifferentHost
	if same == nil {
		same = []string{}
	}
	if different == nil {
		different = []string{}
	}
	rows, _ := runner.Query(ctx, usageByHost, srv.AvailabilityZone, srv.ServerGroupID, same, different, srv.ID, only)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[candidate])
}

// errNoValidHost is Nova's scheduling failure, in Nova's words (a fault
// message users search for).
//
//lint:ignore ST1005 Nova's exact text
var errNoValidHost = errors.New("No valid host was found. There are not enough hosts available.")

// filter keeps the hosts that can take srv.
func filter(hosts []candidate, srv Server, hints Hints, policy string, imageProps map[string]string, groupHasMembers bool) []candidate {
	var out []candidate
	for _, h := range hosts {
		switch {
		case !h.fits(srv.Flavor):
		case policy == "affinity" && groupHasMembers && h.GroupMembers == 0:
		case policy == "anti-affinity" && h.GroupMembers > 0:
		case len(hints.SameHost) > 0 && !h.HasSameHost:
		case len(hints.DifferentHost) > 0 && h.HasDifferentHost:
		case !imageFits(h, imageProps):
		default:
			out = append(out, h)
		}
	}
	return out
}

// imageFits is Nova's ImagePropertiesFilter for the properties hosts report.
func imageFits(h candidate, props map[string]string) bool {
	if arch := cmp.Or(props["hw_architecture"], props["architecture"]); arch != "" && h.Arch != "" && arch != h.Arch {
		return false
	}
	if hv := cmp.Or(props["img_hv_type"], props["hypervisor_type"]); hv != "" && hv != h.VirtType {
		return false
	}
	return true
}

// weigh orders hosts best first: the most free RAM (spread) or the least
// (pack); soft group policies count members first.
func weigh(hosts []candidate, policy string, pack bool) {
	slices.SortStableFunc(hosts, func(a, b candidate) int {
		switch policy {
		case "soft-affinity":
			if c := cmp.Compare(b.GroupMembers, a.GroupMembers); c != 0 {
				return c
			}
		case "soft-anti-affinity":
			if c := cmp.Compare(a.GroupMembers, b.GroupMembers); c != 0 {
				return c
			}
		}
		if pack {
			return cmp.Compare(a.freeRAM(), b.freeRAM())
		}
		return cmp.Compare(b.freeRAM(), a.freeRAM())
	})
}

// schedule picks a host for srv and claims its resources. The claim
// re-checks the host under a row lock (and the server group's, for group
// policies), so parallel builds never overcommit a host or break a group
// policy; a lost race moves on to the next best host. only, when set, is
// the one host allowed (where a boot volume lives).
func (s *Service) schedule(ctx context.Context, srv Server, hints Hints, imageProps map[string]string, only string) (string, error) {
	policy := ""
	if srv.ServerGroupID != "" {
		if err := s.pool.QueryRow(ctx, "SELECT policy FROM server_groups WHERE id = $1", srv.ServerGroupID).Scan(&policy); err != nil {
			return "", tasks.Permanent("server group %s: %v", srv.ServerGroupID, err)
		}
	}
	hosts, err := s.candidates(ctx, nil, srv, hints, only)
	if err != nil {
		return "", err
	}
	groupHasMembers := slices.ContainsFunc(hosts, func(h candidate) bool { return h.GroupMembers > 0 })
	hosts = filter(hosts, srv, hints, policy, imageProps, groupHasMembers)
	weigh(hosts, policy, s.cfg.Pack)
	for _, h := range hosts {
		claimed := false
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT 1 FROM hosts WHERE id = $1 FOR UPDATE", h.ID); err != nil {
				return err
			}
			if srv.ServerGroupID != "" {
				if _, err := tx.Exec(ctx, "SELECT 1 FROM server_groups WHERE id = $1 FOR UPDATE", srv.ServerGroupID); err != nil {
					return err
				}
			}
			now, err := s.candidates(ctx, tx, srv, hints, h.ID)
			if err != nil || len(now) != 1 {
				return err
			}
			var members int64
			if policy == "affinity" && groupHasMembers {
				if err := tx.QueryRow(ctx, "SELECT count(*) FROM servers WHERE server_group_id = $1 AND NOT deleted AND host_id IS NOT NULL AND id <> $2",
					srv.ServerGroupID, srv.ID).Scan(&members); err != nil {
					return err
				}
			}
			if len(filter(now, srv, hints, policy, imageProps, members > 0 || groupHasMembers)) == 0 {
				return nil // taken meanwhile: try the next host
			}
			tag, err := tx.Exec(ctx, "UPDATE servers SET host_id = $2, task_state = $3, updated_at = now() WHERE id = $1 AND host_id IS NULL",
				srv.ID, h.ID, TaskSpawning)
			claimed = err == nil && tag.RowsAffected() == 1
			return err
		})
		if err != nil {
			return "", err
		}
		if claimed {
			return h.ID, nil
		}
	}
	return "", tasks.Permanent("%w", errNoValidHost)
}
