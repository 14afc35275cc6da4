package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
	"github.com/stratus-cloud/stratus/cloudd/internal/config"
	"github.com/stratus-cloud/stratus/cloudd/internal/server"
	"github.com/stratus-cloud/stratus/cloudd/internal/status"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var requestIDPattern = regexp.MustCompile(`^req-[0-9a-f-]{36}$`)

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request to the cloud; headers are "Name", "value" pairs.
func do(t *testing.T, method, url string, body io.Reader, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// uuid4 returns a random version 4 UUID in canonical lower-case form.
func uuid4() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func passwordAuth(user, password string) string {
	return fmt.Sprintf(`{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": %q,
		"domain": {"name": "Default"}, "password": %q}}}, "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}`,
		user, password)
}

func TestHealthAndReadiness(t *testing.T) {
	cloud := cloudtest.Start(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		res := do(t, http.MethodGet, cloud.URL+path, nil)
		if res.status != http.StatusOK {
			t.Errorf("GET %s = %s, want 200", path, res)
		}
		var body struct{ Status string }
		if err := json.Unmarshal(res.body, &body); err != nil || body.Status != "ok" {
			t.Errorf("GET %s body = %s, want {\"status\": \"ok\"}", path, res.body)
		}
	}
}

func TestMetricsCountRequestsByRoute(t *testing.T) {
	cloud := cloudtest.Start(t)
	admin := cloud.Admin(t) // POST /identity/v3/auth/tokens, 201
	do(t, http.MethodPost, cloud.AuthURL+"/auth/tokens", strings.NewReader(passwordAuth("admin", "wrong")),
		"Content-Type", "application/json")
	do(t, http.MethodGet, cloud.URL+"/healthz", nil)
	// A path with an id: the series must carry the pattern, not the id.
	project, err := projects.Create(context.Background(), cloudtest.Identity(t, admin), projects.CreateOpts{Name: "metered"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if res := do(t, http.MethodGet, cloud.AuthURL+"/projects/"+project.ID, nil, "X-Auth-Token", admin.Token()); res.status != http.StatusOK {
		t.Fatalf("GET project: %s", res)
	}

	res := do(t, http.MethodGet, cloud.URL+"/metrics", nil)
	if res.status != http.StatusOK {
		t.Fatalf("GET /metrics = %d", res.status)
	}
	metrics := string(res.body)
	var ours []string
	for line := range strings.Lines(metrics) {
		if strings.HasPrefix(line, "stratus_http_requests_total{") {
			ours = append(ours, strings.TrimSpace(line))
		}
	}
	// The route label is the chi pattern of the identity API, with or
	// without its /identity mount prefix (service="identity" says which).
	tokensRoute := regexp.MustCompile(`route="/identity/v3/auth/tokens"`)
	has := func(want ...string) bool {
		for _, line := range ours {
			ok := tokensRoute.MatchString(line) && strings.Contains(line, `service="identity"`)
			for _, w := range want {
				ok = ok && strings.Contains(line, w)
			}
			if ok {
				return true
			}
		}
		return false
	}
	if !has(`code="201"`, `method="POST"`) || !has(`code="401"`, `method="POST"`) {
		t.Errorf("want stratus_http_requests_total for POST route=\"/identity/v3/auth/tokens\" with codes 201 and 401; have:\n%s",
			strings.Join(ours, "\n"))
	}
	if !regexp.MustCompile(`route="(/identity)?/v3/projects/\{id\}"`).MatchString(metrics) {
		t.Errorf("no series for the route pattern /v3/projects/{id}; have:\n%s", strings.Join(ours, "\n"))
	}
	if strings.Contains(metrics, project.ID) {
		t.Errorf("a project id %s leaked into /metrics labels", project.ID)
	}
	if !strings.Contains(metrics, "stratus_http_request_duration_seconds_bucket{") {
		t.Error("no stratus_http_request_duration_seconds histogram in /metrics")
	}
}

func TestRequestIDs(t *testing.T) {
	cloud := cloudtest.Start(t)
	tok := cloud.Admin(t).Token()

	t.Run("every response", func(t *testing.T) {
		for _, c := range []struct {
			name, method, path, body string
			headers                  []string
			want                     int
		}{
			{"healthz", http.MethodGet, "/healthz", "", nil, 200},
			{"version document", http.MethodGet, "/identity/v3", "", nil, 200},
			{"authenticated", http.MethodGet, "/identity/v3/projects", "", []string{"X-Auth-Token", tok}, 200},
			{"unknown path", http.MethodGet, "/no/such/thing", "", nil, 404},
			{"unknown identity path", http.MethodGet, "/identity/v3/no-such-thing", "", []string{"X-Auth-Token", tok}, 404},
			{"no token", http.MethodGet, "/identity/v3/projects", "", nil, 401},
			{"bad token", http.MethodGet, "/identity/v3/projects", "", []string{"X-Auth-Token", "gAAAAnonsense"}, 401},
			{"wrong password", http.MethodPost, "/identity/v3/auth/tokens", passwordAuth("admin", "wrong"), []string{"Content-Type", "application/json"}, 401},
			{"bad request", http.MethodPost, "/identity/v3/auth/tokens", "{", []string{"Content-Type", "application/json"}, 400},
		} {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			res := do(t, c.method, cloud.URL+c.path, body, c.headers...)
			if res.status != c.want {
				t.Errorf("%s: %s %s = %s, want %d", c.name, c.method, c.path, res, c.want)
			}
			if id := res.header.Get("X-Openstack-Request-Id"); !requestIDPattern.MatchString(id) {
				t.Errorf("%s: X-Openstack-Request-Id = %q, want req-<uuid>", c.name, id)
			}
		}
	})

	t.Run("unique", func(t *testing.T) {
		a := do(t, http.MethodGet, cloud.URL+"/healthz", nil).header.Get("X-Openstack-Request-Id")
		b := do(t, http.MethodGet, cloud.URL+"/healthz", nil).header.Get("X-Openstack-Request-Id")
		if a == b {
			t.Errorf("two requests share the request id %q", a)
		}
	})

	t.Run("caller's id echoed", func(t *testing.T) {
		mine := "req-" + uuid4()
		for _, path := range []string{"/healthz", "/no/such/thing", "/identity/v3/projects"} {
			res := do(t, http.MethodGet, cloud.URL+path, nil, "X-Openstack-Request-Id", mine)
			if got := res.header.Get("X-Openstack-Request-Id"); got != mine {
				t.Errorf("GET %s with request id %s: answered with %q", path, mine, got)
			}
		}
	})

	t.Run("invalid id replaced", func(t *testing.T) {
		u := uuid4()
		for _, bad := range []string{
			"garbage",
			"req-",
			"req-12345",
			u,                                       // no req- prefix
			"req-" + u + "0",                        // too long
			"req-{" + u + "}",                       // braces
			"req-urn:uuid:" + u,                     // URN form
			"req-" + u[:14] + "1" + u[15:],          // version 1
			"req-" + strings.ReplaceAll(u, "-", ""), // no dashes
		} {
			res := do(t, http.MethodGet, cloud.URL+"/healthz", nil, "X-Openstack-Request-Id", bad)
			got := res.header.Get("X-Openstack-Request-Id")
			if got == bad || !requestIDPattern.MatchString(got) {
				t.Errorf("request id %q: answered with %q, want a fresh req-<uuid>", bad, got)
			}
		}
	})

	// OpenStack request ids are lower case (oslo's global request id
	// pattern is ^req-[0-9a-f]{8}-...$); an upper-case one is not adopted.
	t.Run("upper-case id replaced", func(t *testing.T) {
		bad := "req-" + strings.ToUpper(uuid4())
		got := do(t, http.MethodGet, cloud.URL+"/healthz", nil, "X-Openstack-Request-Id", bad).header.Get("X-Openstack-Request-Id")
		if got == bad || !requestIDPattern.MatchString(got) {
			t.Errorf("request id %q: answered with %q, want a fresh lower-case req-<uuid>", bad, got)
		}
	})
}

// keystoneError decodes a Keystone error body and checks its shape.
func keystoneError(t *testing.T, what string, res response, want int) {
	t.Helper()
	if res.status != want {
		t.Errorf("%s: %s, want %d", what, res, want)
		return
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	var body struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Title   string `json:"title"`
		} `json:"error"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil || body.Error == nil {
		t.Errorf("%s: body %s is not a Keystone error", what, res.body)
		return
	}
	if body.Error.Code != want || body.Error.Message == "" || body.Error.Title != http.StatusText(want) {
		t.Errorf("%s: error %+v, want code %d, a message and title %q", what, *body.Error, want, http.StatusText(want))
	}
}

func TestErrorResponses(t *testing.T) {
	cloud := cloudtest.Start(t)
	tokens := cloud.AuthURL + "/auth/tokens"
	jsonType := []string{"Content-Type", "application/json"}

	t.Run("unknown path", func(t *testing.T) {
		res := do(t, http.MethodGet, cloud.URL+"/no/such/thing", nil)
		if res.status != http.StatusNotFound {
			t.Fatalf("GET /no/such/thing = %s, want 404", res)
		}
		if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("404 Content-Type = %q, want application/json", ct)
		}
		var body map[string]struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(res.body, &body); err != nil || len(body) != 1 {
			t.Fatalf("404 body %s is not an OpenStack error", res.body)
		}
		for _, e := range body {
			if e.Code != http.StatusNotFound || e.Message == "" {
				t.Errorf("404 body %s: want code 404 and a message", res.body)
			}
		}
		// Under /identity the error speaks Keystone.
		keystoneError(t, "GET /identity/v3/no-such-thing", do(t, http.MethodGet, cloud.AuthURL+"/no-such-thing",
			nil, "X-Auth-Token", cloud.Admin(t).Token()), http.StatusNotFound)
	})

	t.Run("malformed JSON", func(t *testing.T) {
		for _, body := range []string{`{"auth":`, `{"auth": {}}} trailing`, `not json`, ``} {
			keystoneError(t, fmt.Sprintf("body %q", body), do(t, http.MethodPost, tokens, strings.NewReader(body), jsonType...), http.StatusBadRequest)
		}
	})

	t.Run("wrong JSON type", func(t *testing.T) {
		for _, body := range []string{
			`{"auth": {"identity": {"methods": "password"}}}`,
			`{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": 42, "password": "x"}}}}}`,
			`{"auth": []}`,
			`[]`,
		} {
			keystoneError(t, fmt.Sprintf("body %s", body), do(t, http.MethodPost, tokens, strings.NewReader(body), jsonType...), http.StatusBadRequest)
		}
	})

	t.Run("body over 1 MiB", func(t *testing.T) {
		big := `{"auth": {"identity": {"methods": ["password"], "padding": "` + strings.Repeat("a", 1<<20) + `"}}}`
		keystoneError(t, "1 MiB body", do(t, http.MethodPost, tokens, strings.NewReader(big), jsonType...), http.StatusRequestEntityTooLarge)
	})

	t.Run("wrong Content-Type", func(t *testing.T) {
		for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/xml"} {
			keystoneError(t, "Content-Type "+ct, do(t, http.MethodPost, tokens, strings.NewReader(passwordAuth("admin", cloud.AdminPassword)),
				"Content-Type", ct), http.StatusUnsupportedMediaType)
		}
	})

	t.Run("wrong method", func(t *testing.T) {
		res := do(t, http.MethodPut, tokens, strings.NewReader("{}"), jsonType...)
		if res.status != http.StatusMethodNotAllowed {
			t.Errorf("PUT /identity/v3/auth/tokens = %s, want 405", res)
		}
	})
}

func TestFailedLoginsLookAlike(t *testing.T) {
	cloud := cloudtest.Start(t)
	tokens := cloud.AuthURL + "/auth/tokens"
	wrongPassword := do(t, http.MethodPost, tokens, strings.NewReader(passwordAuth("admin", "not-the-password")),
		"Content-Type", "application/json")
	unknownUser := do(t, http.MethodPost, tokens, strings.NewReader(passwordAuth("nobody-here", "not-the-password")),
		"Content-Type", "application/json")
	keystoneError(t, "wrong password", wrongPassword, http.StatusUnauthorized)
	keystoneError(t, "unknown user", unknownUser, http.StatusUnauthorized)
	if !bytes.Equal(wrongPassword.body, unknownUser.body) {
		t.Errorf("a wrong password and an unknown user answer differently, which tells users apart:\n%s\n%s",
			wrongPassword.body, unknownUser.body)
	}
	if a, b := wrongPassword.header.Get("WWW-Authenticate"), unknownUser.header.Get("WWW-Authenticate"); a == "" || a != b {
		t.Errorf("WWW-Authenticate: wrong password %q, unknown user %q; want the same, non-empty", a, b)
	}
	if tok := wrongPassword.header.Get("X-Subject-Token") + unknownUser.header.Get("X-Subject-Token"); tok != "" {
		t.Errorf("a failed login returned a token: %q", tok)
	}
}

func TestEventFeedPolicy(t *testing.T) {
	cloud := cloudtest.Start(t)
	ctx := context.Background()
	feed := cloud.URL + "/events/v1/events"
	admin := cloud.Admin(t)

	if res := do(t, http.MethodGet, feed, nil); res.status != http.StatusUnauthorized {
		t.Errorf("GET /events/v1/events without a token = %s, want 401", res)
	}
	if res := do(t, http.MethodGet, feed, nil, "X-Auth-Token", "not-a-token"); res.status != http.StatusUnauthorized {
		t.Errorf("GET /events/v1/events with a bad token = %s, want 401", res)
	}

	res := do(t, http.MethodGet, feed, nil, "X-Auth-Token", admin.Token())
	if res.status != http.StatusOK {
		t.Fatalf("GET /events/v1/events as admin = %s, want 200", res)
	}
	// The feed hands out what happened so far (bootstrap may have written
	// events) in order, and next_after is the cursor past the last one.
	var page struct {
		Events *[]struct {
			Seq  int64  `json:"seq"`
			Type string `json:"type"`
		} `json:"events"`
		NextAfter *int64 `json:"next_after"`
	}
	if err := json.Unmarshal(res.body, &page); err != nil || page.Events == nil || page.NextAfter == nil {
		t.Fatalf("admin feed body %s: want {\"events\": [...], \"next_after\": n}", res.body)
	}
	var last int64
	for _, e := range *page.Events {
		if e.Seq <= last || e.Type == "" {
			t.Errorf("feed event %+v out of order (previous seq %d) or untyped", e, last)
		}
		last = e.Seq
	}
	if *page.NextAfter != last {
		t.Errorf("next_after = %d, want the last event's seq %d", *page.NextAfter, last)
	}
	// Past the cursor there is nothing yet: {"events": [], "next_after": cursor}.
	res = do(t, http.MethodGet, fmt.Sprintf("%s?after=%d", feed, last), nil, "X-Auth-Token", admin.Token())
	var empty struct {
		Events    []json.RawMessage `json:"events"`
		NextAfter *int64            `json:"next_after"`
	}
	if err := json.Unmarshal(res.body, &empty); err != nil || res.status != http.StatusOK || empty.Events == nil ||
		len(empty.Events) != 0 || empty.NextAfter == nil || *empty.NextAfter != last {
		t.Errorf("GET /events/v1/events?after=%d = %s, want {\"events\": [], \"next_after\": %d}", last, res, last)
	}
	if res := do(t, http.MethodGet, feed+"?after=-1", nil, "X-Auth-Token", admin.Token()); res.status != http.StatusBadRequest {
		t.Errorf("GET /events/v1/events?after=-1 = %s, want 400", res)
	}

	// A member of an ordinary project may not read the feed.
	idc := cloudtest.Identity(t, admin)
	project, err := projects.Create(ctx, idc, projects.CreateOpts{Name: "feed-members"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	const password = "b0b-the-member"
	user, err := users.Create(ctx, idc, users.CreateOpts{Name: "bob", Password: password, DomainID: "default"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	member := findRole(t, idc, "member")
	if err := roles.Assign(ctx, idc, member, roles.AssignOpts{UserID: user.ID, ProjectID: project.ID}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	bob := cloud.Login(t, "bob", password, "feed-members")
	res = do(t, http.MethodGet, feed, nil, "X-Auth-Token", bob.Token())
	if res.status != http.StatusForbidden {
		t.Errorf("GET /events/v1/events as a member = %s, want 403", res)
	}
	var forbidden map[string]struct{ Code int }
	if err := json.Unmarshal(res.body, &forbidden); err != nil || len(forbidden) != 1 {
		t.Errorf("403 body %s is not an OpenStack error", res.body)
	}
}

func findRole(t *testing.T, idc *gophercloud.ServiceClient, name string) string {
	t.Helper()
	page, err := roles.List(idc, roles.ListOpts{Name: name}).AllPages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	list, err := roles.ExtractRoles(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range list {
		if r.Name == name {
			return r.ID
		}
	}
	t.Fatalf("no role %q", name)
	return ""
}

func TestStatusReportsHealthy(t *testing.T) {
	cloud := cloudtest.Start(t)
	// status prefers the OS_* variables of a sourced openrc; make sure it
	// reads the state dir instead.
	t.Setenv("OS_AUTH_URL", "")
	var out bytes.Buffer
	healthy, err := status.Run(context.Background(), &out, []string{"--state-dir", cloud.StateDir})
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out.String())
	}
	report := out.String()
	if !healthy {
		t.Errorf("status says unhealthy:\n%s", report)
	}
	if !strings.Contains(report, cloud.AuthURL) {
		t.Errorf("report does not name %s:\n%s", cloud.AuthURL, report)
	}
	for _, iface := range []string{"public", "internal", "admin"} {
		found := false
		for line := range strings.Lines(report) {
			f := strings.Fields(line)
			if len(f) >= 5 && f[1] == "identity" && f[2] == iface && f[3] == cloud.URL+"/identity" && f[4] == "up" {
				found = true
			}
		}
		if !found {
			t.Errorf("report lacks an up %s identity endpoint at %s/identity:\n%s", iface, cloud.URL, report)
		}
	}
	if strings.Contains(report, "DOWN") {
		t.Errorf("report has a DOWN line:\n%s", report)
	}
}

func TestStatusReportsDownCloud(t *testing.T) {
	cloud := cloudtest.Start(t)
	t.Setenv("OS_AUTH_URL", "")
	dir := t.TempDir()
	data, err := os.ReadFile(cloud.OpenRC())
	if err != nil {
		t.Fatal(err)
	}
	// The same cloud but a wrong password: login fails, so unhealthy.
	rc := strings.Replace(string(data), "export OS_PASSWORD='"+cloud.AdminPassword+"'", "export OS_PASSWORD='wrong'", 1)
	if rc == string(data) {
		t.Fatalf("OS_PASSWORD line not found in %s", data)
	}
	if err := os.WriteFile(filepath.Join(dir, server.AdminOpenRC), []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	healthy, err := status.Run(context.Background(), &out, []string{"--state-dir", dir})
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if healthy || !strings.Contains(out.String(), "DOWN") {
		t.Errorf("status with a wrong password: healthy=%v, report:\n%s", healthy, out.String())
	}
}

func TestEmbeddedPostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private PostgreSQL twice")
	}
	// As root PostgreSQL runs as user postgres, which cannot reach a
	// t.TempDir(); a directory directly under /tmp it can.
	stateDir, err := os.MkdirTemp("", "stratus-embedded-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(stateDir) })
	// A simulated host: with the real one, this cloudd would also drive
	// the machine's dataplane, in the tables a running `make run` uses.
	cfg := config.Config{Listen: "127.0.0.1:0", StateDir: stateDir, Hosts: []string{"test:///default"}}
	socket := filepath.Join(stateDir, "postgres", fmt.Sprintf(".s.PGSQL.%d", 5432))

	// run starts cloudd on stateDir, calls fn while it serves, and stops it.
	run := func(fn func(s *server.Server, rc string)) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s, err := server.New(ctx, cfg)
		if err != nil {
			t.Fatalf("server.New with embedded PostgreSQL: %v", err)
		}
		done := make(chan error, 1)
		go func() { done <- s.Serve(ctx) }()
		stopped := false
		stop := func() {
			if !stopped {
				stopped = true
				cancel()
				select {
				case err := <-done:
					if err != nil {
						t.Errorf("Serve: %v", err)
					}
				case <-time.After(60 * time.Second):
					t.Errorf("Serve did not return 60 s after cancel")
				}
			}
		}
		defer stop() // also when fn fails the test
		rc, err := os.ReadFile(filepath.Join(stateDir, server.AdminOpenRC))
		if err != nil {
			t.Fatal(err)
		}
		fn(s, string(rc))
		stop()
		if _, err := os.Stat(socket); err == nil {
			t.Errorf("embedded PostgreSQL still listening at %s after Serve returned", socket)
		}
	}
	login := func(s *server.Server, password string) *gophercloud.ServiceClient {
		t.Helper()
		pc, err := openstack.AuthenticatedClient(context.Background(), gophercloud.AuthOptions{
			IdentityEndpoint: s.PublicURL + "/identity/v3", Username: "admin", Password: password,
			DomainName: "Default", TenantName: "admin",
		})
		if err != nil {
			t.Fatalf("admin login at %s: %v", s.PublicURL, err)
		}
		return cloudtest.Identity(t, pc)
	}

	var firstRC, password, firstURL string
	run(func(s *server.Server, rc string) {
		if _, err := os.Stat(socket); err != nil {
			t.Errorf("embedded PostgreSQL socket: %v", err)
		}
		vars, err := server.ReadOpenRC(filepath.Join(stateDir, server.AdminOpenRC))
		if err != nil || vars["OS_PASSWORD"] == "" {
			t.Fatalf("admin-openrc.sh: %v %v", vars, err)
		}
		firstRC, firstURL, password = rc, s.PublicURL, vars["OS_PASSWORD"]
		if !strings.Contains(rc, "export OS_AUTH_URL='"+s.PublicURL+"/identity/v3'") {
			t.Errorf("admin-openrc.sh does not point at %s:\n%s", s.PublicURL, rc)
		}
		idc := login(s, password)
		if _, err := projects.Create(context.Background(), idc, projects.CreateOpts{Name: "survives-restart"}).Extract(); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := os.Stat(filepath.Join(stateDir, "postgres", "data", "PG_VERSION")); err != nil {
		t.Fatalf("no PostgreSQL data directory in the state dir: %v", err)
	}

	run(func(s *server.Server, rc string) {
		// Bootstrap again: same password, file unchanged but for the URL.
		if got := strings.ReplaceAll(rc, s.PublicURL, firstURL); got != firstRC {
			t.Errorf("admin-openrc.sh changed across a restart beyond its URL:\nfirst:\n%s\nsecond:\n%s", firstRC, rc)
		}
		idc := login(s, password)
		page, err := projects.List(idc, projects.ListOpts{Name: "survives-restart"}).AllPages(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		list, err := projects.ExtractProjects(page)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 {
			t.Errorf("project created before the restart: found %d, want 1 (was the database kept?)", len(list))
		}
		// The admin still has exactly one admin project and role set.
		page, err = projects.List(idc, projects.ListOpts{Name: "admin"}).AllPages(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if list, _ := projects.ExtractProjects(page); len(list) != 1 {
			t.Errorf("after a second bootstrap there are %d admin projects, want 1", len(list))
		}
	})
}
