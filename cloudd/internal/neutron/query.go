package neutron

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/stratus-cloud/stratus/internal/osapi"
)

// Neutron's collection query language, the same for every resource:
// attribute filters (repeated values match any), tags filters, sort_key /
// sort_dir, limit / marker with a next link, and fields. The domain returns
// what the caller may see; this layer narrows it on the JSON view, so every
// attribute a client can read is one it can filter and sort on.

// reservedParams are the query parameters that are not attribute filters.
var reservedParams = map[string]bool{
	"fields": true, "sort_key": true, "sort_dir": true, "limit": true, "marker": true, "page_reverse": true,
	"tags": true, "tags-any": true, "not-tags": true, "not-tags-any": true,
}

// toMaps turns domain values into their JSON objects.
func toMaps(items any) ([]map[string]any, error) {
	raw, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	return out, json.Unmarshal(raw, &out)
}

// writeList answers a collection GET: items filtered, sorted, paged and
// trimmed to the asked fields, under key (and key_links).
func writeList(w http.ResponseWriter, r *http.Request, key string, items any) error {
	list, err := toMaps(items)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	list = slices.DeleteFunc(list, func(m map[string]any) bool { return !matches(m, q) })
	if err := sortList(list, q); err != nil {
		return err
	}
	page, err := osapi.ParsePage(r)
	if err != nil {
		return err
	}
	if page.Marker != "" {
		i := slices.IndexFunc(list, func(m map[string]any) bool { return m["id"] == page.Marker })
		if i < 0 {
			return osapi.Errorf(http.StatusBadRequest, "Marker %s could not be found.", page.Marker)
		}
		list = list[i+1:]
	}
	limited := q.Get("limit") != "" && page.Limit > 0
	if limited && len(list) > page.Limit {
		list = list[:page.Limit]
	}
	body := map[string]any{}
	if limited && len(list) == page.Limit {
		last, _ := list[len(list)-1]["id"].(string)
		if links := osapi.NextLinks(r, page, len(list), last); links != nil {
			body[key+"_links"] = links
		}
	}
	for i := range list {
		list[i] = onlyFields(list[i], q["fields"])
	}
	body[key] = list
	osapi.WriteJSON(w, http.StatusOK, body)
	return nil
}

// writeOne answers a GET, POST or PUT of one resource.
func writeOne(w http.ResponseWriter, r *http.Request, status int, key string, item any) error {
	list, err := toMaps([]any{item})
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, status, map[string]any{key: onlyFields(list[0], r.URL.Query()["fields"])})
	return nil
}

func onlyFields(m map[string]any, fields []string) map[string]any {
	var want []string
	for _, f := range fields {
		for part := range strings.SplitSeq(f, ",") {
			if part = strings.TrimSpace(part); part != "" {
				want = append(want, part)
			}
		}
	}
	if len(want) == 0 {
		return m
	}
	out := make(map[string]any, len(want))
	for _, f := range want {
		if v, ok := m[f]; ok {
			out[f] = v
		}
	}
	return out
}

// matches reports whether m passes every filter of q.
func matches(m map[string]any, q url.Values) bool {
	for key, values := range q {
		if reservedParams[key] {
			continue
		}
		v, known := m[key]
		if !known {
			continue // Neutron ignores filters on attributes a resource lacks
		}
		if !slices.ContainsFunc(values, func(want string) bool { return valueMatches(key, v, want) }) {
			return false
		}
	}
	tags := map[string]bool{}
	if list, ok := m["tags"].([]any); ok {
		for _, t := range list {
			tags[fmt.Sprint(t)] = true
		}
	}
	all := func(param string) (bool, bool) { // (all present, param given)
		v := q.Get(param)
		if v == "" {
			return false, false
		}
		for t := range strings.SplitSeq(v, ",") {
			if !tags[t] {
				return false, true
			}
		}
		return true, true
	}
	any := func(param string) (bool, bool) {
		v := q.Get(param)
		if v == "" {
			return false, false
		}
		for t := range strings.SplitSeq(v, ",") {
			if tags[t] {
				return true, true
			}
		}
		return false, true
	}
	if ok, given := all("tags"); given && !ok {
		return false
	}
	if ok, given := any("tags-any"); given && !ok {
		return false
	}
	if ok, given := all("not-tags"); given && ok {
		return false
	}
	if ok, given := any("not-tags-any"); given && ok {
		return false
	}
	return true
}

func valueMatches(key string, v any, want string) bool {
	switch v := v.(type) {
	case nil:
		return want == "" || want == "null" || want == "None"
	case bool:
		b, err := strconv.ParseBool(strings.ToLower(want))
		return err == nil && b == v
	case float64:
		n, err := strconv.ParseFloat(want, 64)
		return err == nil && n == v
	case string:
		return v == want
	case []any:
		// fixed_ips=ip_address=10.0.0.5 or subnet_id=...; lists of
		// strings match when they contain the value.
		k, val, isPair := strings.Cut(want, "=")
		for _, e := range v {
			if obj, ok := e.(map[string]any); ok && isPair {
				if fmt.Sprint(obj[k]) == val {
					return true
				}
			} else if fmt.Sprint(e) == want {
				return true
			}
		}
		return false
	}
	return fmt.Sprint(v) == want
}

// sortList orders list by sort_key/sort_dir pairs (ties by id).
func sortList(list []map[string]any, q url.Values) error {
	keys, dirs := q["sort_key"], q["sort_dir"]
	if len(keys) == 0 {
		return nil
	}
	for i, d := range dirs {
		if d != "asc" && d != "desc" {
			return osapi.Errorf(http.StatusBadRequest, "%s is invalid value for sort_dir, valid values are 'asc' and 'desc'", dirs[i])
		}
	}
	if len(list) > 0 {
		for _, k := range keys {
			if _, ok := list[0][k]; !ok {
				return osapi.Errorf(http.StatusBadRequest, "%s is invalid attribute for sort_key", k)
			}
		}
	}
	slices.SortStableFunc(list, func(a, b map[string]any) int {
		for i, k := range keys {
			c := compareValues(a[k], b[k])
			if i < len(dirs) && dirs[i] == "desc" {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(fmt.Sprint(a["id"]), fmt.Sprint(b["id"]))
	})
	return nil
}

func compareValues(a, b any) int {
	switch x := a.(type) {
	case float64:
		if y, ok := b.(float64); ok {
			return cmp.Compare(x, y)
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0
			case !x:
				return -1
			}
			return 1
		}
	case nil:
		if b == nil {
			return 0
		}
		return -1
	}
	if b == nil {
		return 1
	}
	return cmp.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// ifMatch reads an "If-Match: revision_number=N" constraint (0: none).
func ifMatch(r *http.Request) (int64, error) {
	h := r.Header.Get("If-Match")
	if h == "" {
		return 0, nil
	}
	v, ok := strings.CutPrefix(strings.TrimSpace(h), "revision_number=")
	n, err := strconv.ParseInt(v, 10, 64)
	if !ok || err != nil || n < 1 {
		return 0, osapi.Errorf(http.StatusBadRequest, "If-Match header must be revision_number=<number>, got %q.", h)
	}
	return n, nil
}
