package glance

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/stratus-cloud/stratus/cloudd/internal/image"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

// listParams are the query parameters with a meaning of their own; any
// other parameter filters on a property of that name, as in Glance.
var listParams = map[string]bool{
	"limit": true, "marker": true, "sort": true, "sort_key": true, "sort_dir": true,
	"id": true, "name": true, "status": true, "disk_format": true, "container_format": true,
	"visibility": true, "member_status": true, "owner": true, "checksum": true, "os_hash_value": true,
	"tag": true, "protected": true, "os_hidden": true, "size_min": true, "size_max": true,
	"created_at": true, "updated_at": true,
}

// parseListQuery turns Glance's list parameters into an image.ListQuery.
func parseListQuery(q url.Values) (image.ListQuery, error) {
	lq := image.ListQuery{
		Limit: defaultLimit, Marker: q.Get("marker"),
		Visibility: q.Get("visibility"), MemberStatus: q.Get("member_status"),
		Owner: q.Get("owner"), Checksum: q.Get("checksum"), HashValue: q.Get("os_hash_value"),
		Tags: q["tag"],
	}
	if v := q.Get("limit"); v != "" {
		n, err := positiveInt("limit", v)
		if err != nil {
			return lq, err
		}
		lq.Limit = int(min(n, maxLimit))
	}
	var err error
	for _, f := range []struct {
		param string
		dst   *[]string
	}{{"id", &lq.IDs}, {"name", &lq.Names}, {"status", &lq.Statuses}, {"disk_format", &lq.DiskFormats},
		{"container_format", &lq.ContainerFormats}} {
		if v := q.Get(f.param); v != "" {
			if *f.dst, err = inValues(f.param, v); err != nil {
				return lq, err
			}
		}
	}
	for _, f := range []struct {
		param string
		dst   **bool
	}{{"protected", &lq.Protected}, {"os_hidden", &lq.Hidden}} {
		if v := q.Get(f.param); v != "" {
			if *f.dst, err = boolParam(f.param, v); err != nil {
				return lq, err
			}
		}
	}
	for _, f := range []struct {
		param string
		dst   **int64
	}{{"size_min", &lq.SizeMin}, {"size_max", &lq.SizeMax}} {
		if v := q.Get(f.param); v != "" {
			n, err := positiveInt(f.param, v)
			if err != nil {
				return lq, err
			}
			*f.dst = &n
		}
	}
	for _, attr := range []string{"created_at", "updated_at"} {
		for _, v := range q[attr] {
			tf, err := timeFilter(attr, v)
			if err != nil {
				return lq, err
			}
			lq.Times = append(lq.Times, tf)
		}
	}
	if lq.Sort, err = sortParams(q); err != nil {
		return lq, err
	}
	for k, v := range q {
		if !listParams[k] {
			if lq.Properties == nil {
				lq.Properties = map[string]string{}
			}
			lq.Properties[k] = v[0]
		}
	}
	return lq, nil
}

// inValues reads "value" or Glance's "in:a,b,\"c,d\"" list form.
func inValues(param, v string) ([]string, error) {
	rest, ok := strings.CutPrefix(v, "in:")
	if !ok {
		return []string{v}, nil
	}
	var out []string
	for rest != "" {
		var item string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				return nil, osapi.Errorf(http.StatusBadRequest, "Invalid %s filter %q: unterminated quote.", param, v)
			}
			item, rest = rest[1:end+1], rest[end+2:]
			if rest != "" && !strings.HasPrefix(rest, ",") {
				return nil, osapi.Errorf(http.StatusBadRequest, "Invalid %s filter %q: a comma must follow a quoted value.", param, v)
			}
			rest = strings.TrimPrefix(rest, ",")
		} else {
			item, rest, _ = strings.Cut(rest, ",")
		}
		out = append(out, item)
	}
	return out, nil
}

func boolParam(param, v string) (*bool, error) {
	switch strings.ToLower(v) {
	case "true":
		t := true
		return &t, nil
	case "false":
		f := false
		return &f, nil
	}
	return nil, osapi.Errorf(http.StatusBadRequest, "%s must be true or false, got %q.", param, v)
}

// timeFilter reads "[op:]time" with op one of gt, gte, lt, lte, eq, neq.
func timeFilter(attr, v string) (image.TimeFilter, error) {
	op, at := "eq", v
	if prefix, rest, ok := strings.Cut(v, ":"); ok && !strings.ContainsAny(prefix, "0123456789") {
		op, at = prefix, rest
	}
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return image.TimeFilter{}, osapi.Errorf(http.StatusBadRequest, "Invalid %s filter %q: the time must be ISO 8601, such as 2024-05-01T12:00:00Z.", attr, v)
	}
	return image.TimeFilter{Attr: attr, Op: op, At: t}, nil
}

// sortParams reads either "sort=key[:dir],..." or repeated sort_key with
// sort_dir (one for all keys, or one per key); directions default to desc.
func sortParams(q url.Values) ([]image.SortKey, error) {
	keys, dirs := q["sort_key"], q["sort_dir"]
	if s := q.Get("sort"); s != "" {
		if len(keys) > 0 || len(dirs) > 0 {
			return nil, osapi.Errorf(http.StatusBadRequest, "The 'sort' parameter cannot be combined with sort_key or sort_dir.")
		}
		var out []image.SortKey
		for part := range strings.SplitSeq(s, ",") {
			key, dir, _ := strings.Cut(strings.TrimSpace(part), ":")
			desc, err := sortDir(dir)
			if err != nil {
				return nil, err
			}
			out = append(out, image.SortKey{Key: key, Desc: desc})
		}
		return out, nil
	}
	if len(keys) == 0 && len(dirs) > 0 {
		keys = []string{"created_at"}
	}
	if len(dirs) > 1 && len(dirs) != len(keys) {
		return nil, osapi.Errorf(http.StatusBadRequest, "Give one sort_dir for all sort keys or one per sort_key (%d keys, %d directions).", len(keys), len(dirs))
	}
	out := make([]image.SortKey, len(keys))
	for i, key := range keys {
		dir := ""
		if len(dirs) == 1 {
			dir = dirs[0]
		} else if len(dirs) > 1 {
			dir = dirs[i]
		}
		desc, err := sortDir(dir)
		if err != nil {
			return nil, err
		}
		out[i] = image.SortKey{Key: key, Desc: desc}
	}
	return out, nil
}

func sortDir(dir string) (bool, error) {
	switch dir {
	case "", "desc":
		return true, nil
	case "asc":
		return false, nil
	}
	return false, osapi.Errorf(http.StatusBadRequest, "Invalid sort direction: %s. It must be asc or desc.", dir)
}
