package nova

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/compute"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
)

func (a *API) serverRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/servers", osapi.HandlerFunc(a.listServers(false)))
	r.Method(http.MethodGet, "/servers/detail", osapi.HandlerFunc(a.listServers(true)))
	r.Method(http.MethodPost, "/servers", osapi.HandlerFunc(a.createServer))
	r.Method(http.MethodGet, "/servers/{id}", osapi.HandlerFunc(a.getServer))
	r.Method(http.MethodPut, "/servers/{id}", osapi.HandlerFunc(a.updateServer))
	r.Method(http.MethodDelete, "/servers/{id}", osapi.HandlerFunc(a.deleteServer))
	r.Method(http.MethodPost, "/servers/{id}/action", osapi.HandlerFunc(a.serverAction))
	r.Method(http.MethodGet, "/servers/{id}/metadata", osapi.HandlerFunc(a.getMetadata))
	r.Method(http.MethodPost, "/servers/{id}/metadata", osapi.HandlerFunc(a.setMetadata(false)))
	r.Method(http.MethodPut, "/servers/{id}/metadata", osapi.HandlerFunc(a.setMetadata(true)))
}

// createBody is the 2.1 server create schema; unknown fields are refused,
// as Nova's schema does.
type createBody struct {
	Server *struct {
		Name             string            `json:"name"`
		ImageRef         string            `json:"imageRef"`
		FlavorRef        string            `json:"flavorRef"`
		KeyName          string            `json:"key_name"`
		UserData         string            `json:"user_data"`
		Metadata         map[string]string `json:"metadata"`
		AvailabilityZone string            `json:"availability_zone"`
		ConfigDrive      json.RawMessage   `json:"config_drive"`
		Networks         json.RawMessage   `json:"networks"`
		SecurityGroups   []struct {
			Name string `json:"name"`
		} `json:"security_groups"`
		MinCount             *int            `json:"min_count"`
		MaxCount             *int            `json:"max_count"`
		ReturnReservationID  bool            `json:"return_reservation_id"`
		BlockDeviceMapping   json.RawMessage `json:"block_device_mapping"`
		BlockDeviceMappingV2 json.RawMessage `json:"block_device_mapping_v2"`
		DiskConfig           string          `json:"OS-DCF:diskConfig"`
		AccessIPv4           string          `json:"accessIPv4"`
		AccessIPv6           string          `json:"accessIPv6"`
		AdminPass            string          `json:"adminPass"`
	} `json:"server"`
	Hints       *compute.Hints `json:"os:scheduler_hints"`
	LegacyHints *compute.Hints `json:"OS-SCH-HNT:scheduler_hints"`
}

// refID accepts an id or a link to one, as Nova does for imageRef and flavorRef.
func refID(ref string) string {
	if u, err := url.Parse(ref); err == nil && u.Scheme != "" {
		return path.Base(u.Path)
	}
	return ref
}

func emptyJSON(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null" || s == "[]" || s == `"none"` || s == `"auto"`
}

func (a *API) createServer(w http.ResponseWriter, r *http.Request) error {
	var body createBody
	if err := osapi.DecodeJSON(r, &body, true); err != nil {
		return err
	}
	b := body.Server
	if b == nil {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute server: 'server' is a required property.")
	}
	nets, err := requestedNetworks(b.Networks)
	if err != nil {
		return err
	}
	if !emptyJSON(b.BlockDeviceMapping) {
		return osapi.Errorf(http.StatusBadRequest, "The legacy block_device_mapping is not supported; use block_device_mapping_v2.")
	}
	boot, err := parseBootMapping(b.BlockDeviceMappingV2)
	if err != nil {
		return err
	}
	if (b.MinCount != nil && *b.MinCount != 1) || (b.MaxCount != nil && *b.MaxCount != 1) {
		return osapi.Errorf(http.StatusBadRequest, "Creating several servers in one request is not supported; create them one by one.")
	}
	hints := compute.Hints{}
	for _, h := range []*compute.Hints{body.Hints, body.LegacyHints} {
		if h != nil {
			hints = *h
		}
	}
	srv, err := a.createWithBoot(r, compute.CreateRequest{
		Name: b.Name, FlavorID: refID(b.FlavorRef), ImageID: refID(b.ImageRef), KeyName: b.KeyName,
		UserData: b.UserData, Metadata: b.Metadata, AvailabilityZone: b.AvailabilityZone, Hints: hints, Networks: nets,
		SecurityGroups: groupNames(b.SecurityGroups),
	}, boot)
	if err != nil {
		return err
	}
	groups := []nameView{}
	for _, g := range groupNames(b.SecurityGroups) {
		groups = append(groups, nameView{Name: g})
	}
	if len(groups) == 0 {
		groups = defaultGroups
	}
	w.Header().Set("Location", serverLink(r, srv.ID, false))
	osapi.WriteJSON(w, http.StatusAccepted, map[string]any{"server": map[string]any{
		"id": srv.ID, "links": serverLinks(r, srv.ID), "OS-DCF:diskConfig": "MANUAL", "security_groups": groups,
	}})
	return nil
}

func serverLink(r *http.Request, id string, bookmark bool) string {
	if bookmark {
		return osapi.BaseURL(r) + "/compute/servers/" + id
	}
	return osapi.BaseURL(r) + "/compute/v2.1/servers/" + id
}

func serverLinks(r *http.Request, id string) []osapi.Link {
	return []osapi.Link{{Rel: "self", Href: serverLink(r, id, false)}, {Rel: "bookmark", Href: serverLink(r, id, true)}}
}

// serverView is the 2.1 server representation. It is a struct rather than
// a map: a page of a thousand servers is mostly this encoding.
type serverView struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Status           string            `json:"status"`
	TenantID         string            `json:"tenant_id"`
	UserID           string            `json:"user_id"`
	Metadata         map[string]string `json:"metadata"`
	HostID           string            `json:"hostId"`
	Image            any               `json:"image"` // "" when booted from a volume, as Nova
	Flavor           refView           `json:"flavor"`
	Created          string            `json:"created"`
	Updated          string            `json:"updated"`
	Addresses        serverAddresses   `json:"addresses"`
	AccessIPv4       string            `json:"accessIPv4"`
	AccessIPv6       string            `json:"accessIPv6"`
	Links            []osapi.Link      `json:"links"`
	DiskConfig       string            `json:"OS-DCF:diskConfig"`
	Progress         int               `json:"progress"`
	AvailabilityZone string            `json:"OS-EXT-AZ:availability_zone"`
	ConfigDrive      string            `json:"config_drive"`
	KeyName          *string           `json:"key_name"`
	LaunchedAt       *string           `json:"OS-SRV-USG:launched_at"`
	TerminatedAt     *string           `json:"OS-SRV-USG:terminated_at"`
	TaskState        *string           `json:"OS-EXT-STS:task_state"`
	VMState          string            `json:"OS-EXT-STS:vm_state"`
	PowerState       int               `json:"OS-EXT-STS:power_state"`
	Volumes          []attachedVolume  `json:"os-extended-volumes:volumes_attached"`
	SecurityGroups   []nameView        `json:"security_groups"`
	Fault            *faultView        `json:"fault,omitempty"`
	*adminView
}

// adminView holds what only admins see: where a server runs.
type adminView struct {
	Host         *string `json:"OS-EXT-SRV-ATTR:host"`
	Hypervisor   *string `json:"OS-EXT-SRV-ATTR:hypervisor_hostname"`
	InstanceName string  `json:"OS-EXT-SRV-ATTR:instance_name"`
}

type refView struct {
	ID    string       `json:"id"`
	Links []osapi.Link `json:"links"`
}

type nameView struct {
	Name string `json:"name"`
}

type faultView struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Created string `json:"created"`
}

var defaultGroups = []nameView{{Name: "default"}}

func serverJSON(r *http.Request, srv compute.Server, net serverNetworking) serverView {
	base := osapi.BaseURL(r)
	ref := func(kind, id string) refView {
		return refView{ID: id, Links: []osapi.Link{{Rel: "bookmark", Href: base + "/compute/" + kind + "/" + id}}}
	}
	out := serverView{
		ID: srv.ID, Name: srv.Name, Status: srv.Status(), TenantID: srv.ProjectID, UserID: srv.UserID,
		Metadata: srv.Metadata, HostID: hostID(srv), Image: ref("images", srv.ImageID), Flavor: ref("flavors", srv.Flavor.ID),
		Created: isoTime(srv.CreatedAt), Updated: isoTime(srv.UpdatedAt), Links: serverLinks(r, srv.ID),
		DiskConfig: "MANUAL", AvailabilityZone: srv.AvailabilityZone, ConfigDrive: "True",
		KeyName: optional(srv.KeyName), TaskState: optional(srv.TaskState), VMState: srv.VMState, PowerState: srv.PowerState,
		Volumes: []attachedVolume{}, SecurityGroups: net.groups, Addresses: net.addresses,
	}
	if out.Addresses == nil {
		out.Addresses = serverAddresses{}
	}
	if out.SecurityGroups == nil {
		out.SecurityGroups = defaultGroups
	}
	if srv.ImageID == "" {
		out.Image = ""
	}
	if srv.LaunchedAt != nil {
		out.LaunchedAt = optional(srv.LaunchedAt.UTC().Format("2006-01-02T15:04:05.000000"))
	}
	if srv.Fault != nil && srv.VMState == compute.VMError {
		out.Fault = &faultView{Code: srv.Fault.Code, Message: srv.Fault.Message, Created: isoTime(srv.Fault.Created)}
	}
	if policy.IsAdmin(claims(r)) {
		out.adminView = &adminView{Host: optional(srv.HostName), Hypervisor: optional(srv.HostName), InstanceName: "instance-" + srv.ID}
	}
	return out
}

// optional is nil for "", so JSON says null as Nova does.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// hostID is Nova's opaque per-project host identifier.
func hostID(srv compute.Server) string {
	if srv.HostName == "" {
		return ""
	}
	sum := sha256.Sum224([]byte(srv.ProjectID + srv.HostName))
	return hex.EncodeToString(sum[:])
}

func (a *API) listServers(detail bool) osapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		page, err := osapi.ParsePage(r)
		if err != nil {
			return err
		}
		q := r.URL.Query()
		all := q.Get("all_tenants")
		f := compute.ListFilter{
			AllProjects: all != "" && all != "0" && !strings.EqualFold(all, "false"),
			ProjectID:   q.Get("project_id") + q.Get("tenant_id"),
			Name:        q.Get("name"), Status: q.Get("status"), FlavorID: q.Get("flavor"), ImageID: q.Get("image"),
			Page: page,
		}
		if policy.IsAdmin(claims(r)) {
			f.Host = q.Get("host")
		}
		list, err := a.Compute.List(r.Context(), claims(r), f)
		if err != nil {
			return err
		}
		var net map[string]serverNetworking
		if detail {
			if net, err = a.networking(r, list...); err != nil {
				return err
			}
		}
		out := make([]any, len(list))
		var views []*serverView
		for i, srv := range list {
			if detail {
				v := serverJSON(r, srv, net[srv.ID])
				views = append(views, &v)
				out[i] = views[len(views)-1]
			} else {
				out[i] = struct {
					ID    string       `json:"id"`
					Name  string       `json:"name"`
					Links []osapi.Link `json:"links"`
				}{srv.ID, srv.Name, serverLinks(r, srv.ID)}
			}
		}
		if err := a.fillVolumes(r, views); err != nil {
			return err
		}
		body := map[string]any{"servers": out}
		last := ""
		if len(list) > 0 {
			last = list[len(list)-1].ID
		}
		if links := osapi.NextLinks(r, page, len(list), last); links != nil {
			body["servers_links"] = links
		}
		osapi.WriteJSON(w, http.StatusOK, body)
		return nil
	}
}

func (a *API) getServer(w http.ResponseWriter, r *http.Request) error {
	srv, err := a.Compute.Get(r.Context(), claims(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	return a.writeServer(w, r, srv)
}

// writeServer answers with one server's view, its addresses, security
// groups and volumes included.
func (a *API) writeServer(w http.ResponseWriter, r *http.Request, srv compute.Server) error {
	net, err := a.networking(r, srv)
	if err != nil {
		return err
	}
	view := serverJSON(r, srv, net[srv.ID])
	if err := a.fillVolumes(r, []*serverView{&view}); err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"server": view})
	return nil
}

func (a *API) updateServer(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Server *struct {
			Name       *string `json:"name"`
			AccessIPv4 *string `json:"accessIPv4"`
			AccessIPv6 *string `json:"accessIPv6"`
			DiskConfig *string `json:"OS-DCF:diskConfig"`
		} `json:"server"`
	}
	if err := osapi.DecodeJSON(r, &body, true); err != nil {
		return err
	}
	if body.Server == nil {
		return osapi.Errorf(http.StatusBadRequest, "'server' is a required property.")
	}
	srv, err := a.Compute.Update(r.Context(), claims(r), chi.URLParam(r, "id"), body.Server.Name)
	if err != nil {
		return err
	}
	return a.writeServer(w, r, srv)
}

func (a *API) deleteServer(w http.ResponseWriter, r *http.Request) error {
	if err := a.Compute.Delete(r.Context(), claims(r), chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) getMetadata(w http.ResponseWriter, r *http.Request) error {
	srv, err := a.Compute.Get(r.Context(), claims(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"metadata": srv.Metadata})
	return nil
}

func (a *API) setMetadata(replace bool) osapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			Metadata map[string]string `json:"metadata"`
		}
		if err := osapi.DecodeJSON(r, &body, true); err != nil {
			return err
		}
		if body.Metadata == nil {
			return osapi.Errorf(http.StatusBadRequest, "'metadata' is a required property.")
		}
		md, err := a.Compute.SetMetadata(r.Context(), claims(r), chi.URLParam(r, "id"), body.Metadata, replace)
		if err != nil {
			return err
		}
		osapi.WriteJSON(w, http.StatusOK, map[string]any{"metadata": md})
		return nil
	}
}

// serverAction dispatches POST /servers/{id}/action by its single key.
func (a *API) serverAction(w http.ResponseWriter, r *http.Request) error {
	var body map[string]json.RawMessage
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return err
	}
	if len(body) != 1 {
		return osapi.Errorf(http.StatusBadRequest, "An action body must hold exactly one action.")
	}
	ctx, c, id := r.Context(), claims(r), chi.URLParam(r, "id")
	for action, raw := range body {
		var err error
		switch action {
		case "os-start":
			err = a.Compute.Start(ctx, c, id)
		case "os-stop":
			err = a.Compute.Stop(ctx, c, id)
		case "reboot":
			var args struct {
				Type string `json:"type"`
			}
			if err := json.Unmarshal(raw, &args); err != nil || (args.Type != "SOFT" && args.Type != "HARD") {
				return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute reboot: type must be SOFT or HARD.")
			}
			err = a.Compute.Reboot(ctx, c, id, args.Type == "HARD")
		case "resize":
			var args struct {
				FlavorRef string `json:"flavorRef"`
			}
			if err := json.Unmarshal(raw, &args); err != nil || args.FlavorRef == "" {
				return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute resize: 'flavorRef' is a required property.")
			}
			err = a.Compute.Resize(ctx, c, id, refID(args.FlavorRef))
		case "confirmResize":
			err = a.Compute.ConfirmResize(ctx, c, id)
			if err == nil {
				w.WriteHeader(http.StatusNoContent)
				return nil
			}
		case "revertResize":
			err = a.Compute.RevertResize(ctx, c, id)
		case "createImage":
			var args struct {
				Name     string            `json:"name"`
				Metadata map[string]string `json:"metadata"`
			}
			if err := json.Unmarshal(raw, &args); err != nil {
				return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute createImage: %v", err)
			}
			imageID, err := a.Compute.CreateImage(ctx, c, id, args.Name, args.Metadata)
			if err != nil {
				return err
			}
			w.Header().Set("Location", osapi.BaseURL(r)+"/image/v2/images/"+imageID)
			w.WriteHeader(http.StatusAccepted)
			return nil
		case "addSecurityGroup", "removeSecurityGroup":
			change := a.Compute.AddSecurityGroup
			if action == "removeSecurityGroup" {
				change = a.Compute.RemoveSecurityGroup
			}
			var group string
			if group, err = securityGroupName(raw); err == nil {
				err = change(ctx, c, id, group)
			}
		case "os-getConsoleOutput":
			var args struct {
				Length json.RawMessage `json:"length"`
			}
			_ = json.Unmarshal(raw, &args)
			lines, err := consoleLength(args.Length)
			if err != nil {
				return err
			}
			out, err := a.Compute.ConsoleOutput(ctx, c, id, lines)
			if err != nil {
				return err
			}
			osapi.WriteJSON(w, http.StatusOK, map[string]string{"output": out})
			return nil
		default:
			return osapi.Errorf(http.StatusBadRequest, "There is no such action: %s", action)
		}
		if err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// consoleLength reads os-getConsoleOutput's length: a number, a numeric
// string, or null for everything.
func consoleLength(raw json.RawMessage) (int, error) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" || s == "null" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < -1 {
		return 0, osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute length: %s", s)
	}
	return n, nil
}
