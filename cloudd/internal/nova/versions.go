package nova

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/stratus-cloud/stratus/internal/osapi"
)

// The microversions served are minMicroversion to maxMicroversion. Raise
// the maximum only together with the behaviour of the new version: clients
// such as the openstack CLI pick the highest one advertised.
const (
	minMicroversion = "2.1"
	maxMicroversion = "2.1"
)

// prefix is where the API is mounted; links in bodies start with it.
const prefix = "/compute"

// Microversion headers: the current one and Nova's legacy one.
const (
	versionHeader       = "OpenStack-API-Version"
	legacyVersionHeader = "X-OpenStack-Nova-API-Version"
)

// apiVersion is a microversion major.minor.
type apiVersion struct{ major, minor int }

func (v apiVersion) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }

func (v apiVersion) less(o apiVersion) bool {
	return v.major < o.major || v.major == o.major && v.minor < o.minor
}

// versionPattern is Nova's syntax for a version: no leading zeros.
var versionPattern = regexp.MustCompile(`^([1-9]\d*)\.([1-9]\d*|0)$`)

func parseVersion(s string) (apiVersion, bool) {
	m := versionPattern.FindStringSubmatch(s)
	if m == nil {
		return apiVersion{}, false
	}
	major, err1 := strconv.Atoi(m[1])
	minor, err2 := strconv.Atoi(m[2])
	return apiVersion{major, minor}, err1 == nil && err2 == nil
}

func mustParseVersion(s string) apiVersion {
	v, ok := parseVersion(s)
	if !ok {
		panic("bad microversion constant " + s)
	}
	return v
}

var minVersion, maxVersion = mustParseVersion(minMicroversion), mustParseVersion(maxMicroversion)

// requestedVersion reads the version a client asked for: the compute
// entry of OpenStack-API-Version (which may list several services, over
// several header lines), else the legacy header. It returns "" when the
// client asked for nothing, or an error for a malformed header.
func requestedVersion(h http.Header) (string, error) {
	for _, line := range h.Values(versionHeader) {
		for _, item := range strings.Split(line, ",") {
			fields := strings.Fields(item)
			if len(fields) == 0 {
				continue
			}
			if !strings.EqualFold(fields[0], "compute") {
				continue
			}
			if len(fields) != 2 {
				return "", osapi.Errorf(http.StatusBadRequest, "Invalid %s header %q: use \"compute <major>.<minor>\".", versionHeader, line)
			}
			return fields[1], nil
		}
	}
	return strings.TrimSpace(h.Get(legacyVersionHeader)), nil
}

// negotiateMicroversion picks the microversion of a request (absent: the
// minimum; "latest": the maximum), refuses malformed (400) and unserved
// (406) ones as Nova does, and echoes the choice in both headers. Handlers
// will read it from the context once a version above 2.1 changes their
// behaviour; at 2.1 alone none does.
func negotiateMicroversion(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", versionHeader+", "+legacyVersionHeader)
		v, err := negotiate(r.Header)
		if err != nil {
			osapi.WriteError(w, r, err)
			return
		}
		w.Header().Set(versionHeader, "compute "+v.String())
		w.Header().Set(legacyVersionHeader, v.String())
		next.ServeHTTP(w, r)
	})
}

func negotiate(h http.Header) (apiVersion, error) {
	s, err := requestedVersion(h)
	switch {
	case err != nil:
		return apiVersion{}, err
	case s == "":
		return minVersion, nil
	case strings.EqualFold(s, "latest"):
		return maxVersion, nil
	}
	v, ok := parseVersion(s)
	if !ok {
		return apiVersion{}, osapi.Errorf(http.StatusBadRequest,
			"API Version String %s is of invalid format. Must be of format MajorNum.MinorNum.", s)
	}
	if v.less(minVersion) || maxVersion.less(v) {
		return apiVersion{}, osapi.Errorf(http.StatusNotAcceptable,
			"Version %s is not supported by the API. Minimum is %s and maximum is %s.", v, minVersion, maxVersion)
	}
	return v, nil
}

// apiURL is the absolute URL of path under /compute/v2.1 ("" for the root).
func apiURL(r *http.Request, path string) string {
	return osapi.BaseURL(r) + prefix + "/v2.1" + path
}

// resourceLinks are Nova's self and bookmark links of a resource at path
// ("/flavors/1"); the bookmark is the unversioned URL.
func resourceLinks(r *http.Request, path string) []osapi.Link {
	return []osapi.Link{{Rel: "self", Href: apiURL(r, path)}, {Rel: "bookmark", Href: osapi.BaseURL(r) + prefix + path}}
}

// v21Doc describes v2.1 as Nova's version documents do.
func v21Doc(r *http.Request) map[string]any {
	return map[string]any{
		"id": "v2.1", "status": "CURRENT", "version": maxMicroversion, "min_version": minMicroversion,
		"updated": "2013-07-23T11:33:21Z",
		"links":   []osapi.Link{{Rel: "self", Href: apiURL(r, "/")}},
	}
}

// versions is the document at /compute: v2.1 with its microversions, and
// the legacy v2.0 that Nova still lists as SUPPORTED.
func versions(w http.ResponseWriter, r *http.Request) error {
	v20 := map[string]any{
		"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "", "updated": "2011-01-21T11:33:21Z",
		"links": []osapi.Link{{Rel: "self", Href: osapi.BaseURL(r) + prefix + "/v2/"}},
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"versions": []any{v20, v21Doc(r)}})
	return nil
}

// version is the document at /compute/v2.1.
func version(w http.ResponseWriter, r *http.Request) error {
	doc := v21Doc(r)
	doc["links"] = []map[string]string{
		{"rel": "self", "href": apiURL(r, "/")},
		{"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
	}
	doc["media-types"] = []map[string]string{{
		"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1",
	}}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"version": doc})
	return nil
}
