package nova

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/compute"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

func (a *API) hostRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/os-hypervisors", osapi.HandlerFunc(a.listHypervisors(false)))
	r.Method(http.MethodGet, "/os-hypervisors/detail", osapi.HandlerFunc(a.listHypervisors(true)))
	r.Method(http.MethodGet, "/os-hypervisors/{id}", osapi.HandlerFunc(a.getHypervisor))
	r.Method(http.MethodGet, "/os-availability-zone", osapi.HandlerFunc(a.listZones))
	r.Method(http.MethodGet, "/os-availability-zone/detail", osapi.HandlerFunc(a.listZones))
	// Stratus's own admin API for hosts: libvirt URIs joining or leaving the cloud.
	r.Method(http.MethodGet, "/os-stratus-hosts", osapi.HandlerFunc(a.listHypervisors(true)))
	r.Method(http.MethodPost, "/os-stratus-hosts", osapi.HandlerFunc(a.addHost))
	r.Method(http.MethodDelete, "/os-stratus-hosts/{id}", osapi.HandlerFunc(a.removeHost))
}

// claims returns the verified claims of the request.
func claims(r *http.Request) *token.Claims { return policy.ClaimsFrom(r.Context()) }

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func hypervisorJSON(h compute.Host, detail bool) map[string]any {
	state, status := "down", "enabled"
	if h.Up {
		state = "up"
	}
	if !h.Enabled {
		status = "disabled"
	}
	out := map[string]any{"id": h.ID, "hypervisor_hostname": h.Name, "state": state, "status": status}
	if detail {
		out["hypervisor_type"] = strings.ToUpper(h.VirtType)
		out["hypervisor_version"] = 0
		out["host_ip"] = ""
		out["service"] = map[string]any{"host": h.Name, "id": h.ID, "disabled_reason": nil}
		out["vcpus"], out["vcpus_used"] = h.VCPUs, h.UsedVCPUs
		out["memory_mb"], out["memory_mb_used"], out["free_ram_mb"] = h.MemoryMB, h.UsedRAMMB, h.MemoryMB-h.UsedRAMMB
		out["local_gb"], out["local_gb_used"], out["free_disk_gb"] = h.DiskGB, h.UsedDiskGB, h.DiskGB-h.UsedDiskGB
		out["running_vms"], out["current_workload"] = h.RunningVMs, 0
		out["disk_available_least"] = h.DiskGB - h.UsedDiskGB
		out["cpu_info"] = `{"arch": "` + h.Arch + `"}`
		out["OS-STRATUS:uri"] = h.URI
		out["OS-STRATUS:availability_zone"] = h.AvailabilityZone
	}
	return out
}

func (a *API) listHypervisors(detail bool) osapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := policy.Authorize(claims(r), policy.Admin, "", "hypervisors"); err != nil {
			return err
		}
		hosts, err := a.Compute.ListHosts(r.Context())
		if err != nil {
			return err
		}
		out := make([]map[string]any, len(hosts))
		for i, h := range hosts {
			out[i] = hypervisorJSON(h, detail)
		}
		osapi.WriteJSON(w, http.StatusOK, map[string]any{"hypervisors": out})
		return nil
	}
}

func (a *API) getHypervisor(w http.ResponseWriter, r *http.Request) error {
	if err := policy.Authorize(claims(r), policy.Admin, "", "hypervisors"); err != nil {
		return err
	}
	h, err := a.Compute.GetHost(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"hypervisor": hypervisorJSON(h, true)})
	return nil
}

func (a *API) listZones(w http.ResponseWriter, r *http.Request) error {
	zones, err := a.Compute.Zones(r.Context())
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for name, up := range zones {
		out = append(out, map[string]any{"zoneName": name, "zoneState": map[string]bool{"available": up}, "hosts": nil})
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"availabilityZoneInfo": out})
	return nil
}

func (a *API) addHost(w http.ResponseWriter, r *http.Request) error {
	if err := policy.Authorize(claims(r), policy.Admin, "", "hosts"); err != nil {
		return err
	}
	var body struct {
		Host *struct {
			URI              string `json:"uri"`
			AvailabilityZone string `json:"availability_zone"`
		} `json:"host"`
	}
	if err := osapi.DecodeJSON(r, &body, true); err != nil {
		return err
	}
	if body.Host == nil || body.Host.URI == "" {
		return osapi.Errorf(http.StatusBadRequest, "'host' with a libvirt 'uri' is required.")
	}
	h, err := a.Compute.AddHost(r.Context(), body.Host.URI, body.Host.AvailabilityZone)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusCreated, map[string]any{"hypervisor": hypervisorJSON(h, true)})
	return nil
}

func (a *API) removeHost(w http.ResponseWriter, r *http.Request) error {
	if err := policy.Authorize(claims(r), policy.Admin, "", "hosts"); err != nil {
		return err
	}
	if err := a.Compute.RemoveHost(r.Context(), chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
