package osapi

import (
	"net/http"
	"net/url"
	"strconv"
)

// Page is a validated limit/marker request. Limit 0 means "the default".
type Page struct {
	Limit  int
	Marker string
}

// MaxPageSize caps any single page, as osapi_max_limit does in Nova.
const MaxPageSize = 1000

// ParsePage reads limit and marker from the query string.
func ParsePage(r *http.Request) (Page, error) {
	q := r.URL.Query()
	p := Page{Marker: q.Get("marker"), Limit: MaxPageSize}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return p, Errorf(http.StatusBadRequest, "limit must be a non-negative integer, got %q.", s)
		}
		p.Limit = min(n, MaxPageSize)
	}
	return p, nil
}

// Link is an OpenStack link object.
type Link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

// NextLinks returns the "*_links" value for a page that came back full:
// a next link whose marker is the last item's id, or nil when the page was
// the last one.
func NextLinks(r *http.Request, p Page, returned int, lastID string) []Link {
	if p.Limit == 0 || returned < p.Limit || lastID == "" {
		return nil
	}
	u := *r.URL
	q := u.Query()
	q.Set("marker", lastID)
	q.Set("limit", strconv.Itoa(p.Limit))
	u.RawQuery = q.Encode()
	return []Link{{Rel: "next", Href: BaseURL(r) + u.RequestURI()}}
}

// BaseURL is scheme://host as the client addressed us.
func BaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if fwd := r.Header.Get("X-Forwarded-Proto"); fwd != "" {
		scheme = fwd
	}
	return (&url.URL{Scheme: scheme, Host: r.Host}).String()
}
