package image

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// ListQuery narrows and orders a listing. Empty fields do not filter;
// lists match any of their values, except Tags, which must all be there.
type ListQuery struct {
	Limit  int
	Marker string    // the id of the last image of the previous page
	Sort   []SortKey // default: created_at descending

	// Visibility is "" for Glance's default view (the caller's images,
	// public ones and shared ones it accepted), "all" to add community
	// images, or one visibility. MemberStatus narrows shared images by the
	// caller's membership: accepted (default), pending, rejected or all.
	Visibility   string
	MemberStatus string

	IDs, Names, Statuses, DiskFormats, ContainerFormats []string
	Owner, Checksum, HashValue                          string
	Tags                                                []string
	Protected, Hidden                                   *bool
	SizeMin, SizeMax                                    *int64
	Times                                               []TimeFilter
	Properties                                          map[string]string
}

// SortKey orders by one attribute.
type SortKey struct {
	Key  string
	Desc bool
}

// TimeFilter compares created_at or updated_at with At using Op: gt, gte,
// lt, lte, eq or neq.
type TimeFilter struct {
	Attr string
	Op   string
	At   time.Time
}

// sortableKeys are the attributes a listing can be sorted by.
var sortableKeys = []string{"name", "status", "container_format", "disk_format", "size", "virtual_size", "id",
	"created_at", "updated_at", "visibility", "owner", "min_disk", "min_ram"}

var (
	statuses      = []string{StatusQueued, StatusSaving, StatusUploading, StatusActive, StatusDeactivated, StatusKilled}
	memberStates  = []string{"pending", "accepted", "rejected"}
	timeOperators = map[string]string{"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=", "neq": "<>"}
)

// List returns one page of the images c can see that match q.
func (s *Service) List(ctx context.Context, c *token.Claims, q ListQuery) ([]Image, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	keys, err := sortKeys(q.Sort)
	if err != nil {
		return nil, err
	}
	b := &sqlBuilder{}
	if err := b.visibility(c, q.Visibility, q.MemberStatus); err != nil {
		return nil, err
	}
	from := "images i"
	if q.Marker != "" {
		// The marker must be an image the caller can see; it need not
		// match the filters (it may have changed since the last page).
		marker := b.arg(q.Marker)
		var ok bool
		err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM images i WHERE i.id = "+marker+" AND "+b.where()+")",
			b.args...).Scan(&ok)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, osapi.Errorf(http.StatusBadRequest, "Invalid marker. Image %s could not be found.", q.Marker)
		}
		from += ", (SELECT * FROM images WHERE id = " + marker + ") m"
		b.keyset(keys)
	}
	if err := b.filters(q); err != nil {
		return nil, err
	}
	order := make([]string, len(keys))
	for i, k := range keys {
		order[i] = "i." + k.Key
		if k.Desc {
			order[i] += " DESC"
		}
	}
	sql := "SELECT " + imageCols + " FROM " + from + " WHERE " + b.where() + " ORDER BY " + strings.Join(order, ", ") +
		" LIMIT " + b.arg(q.Limit)
	rows, _ := s.pool.Query(ctx, sql, b.args...)
	return pgx.CollectRows(rows, scanImage)
}

// sortKeys validates keys and adds the id as the final tie-breaker, in
// the direction of the last key, so that pages never overlap.
func sortKeys(keys []SortKey) ([]SortKey, error) {
	if len(keys) == 0 {
		keys = []SortKey{{Key: "created_at", Desc: true}}
	}
	out := make([]SortKey, 0, len(keys)+1)
	for _, k := range keys {
		if !slices.Contains(sortableKeys, k.Key) {
			return nil, osapi.Errorf(http.StatusBadRequest, "Invalid sort key: %s. It must be one of %s.", k.Key, strings.Join(sortableKeys, ", "))
		}
		if !slices.ContainsFunc(out, func(o SortKey) bool { return o.Key == k.Key }) {
			out = append(out, k)
		}
	}
	if !slices.ContainsFunc(out, func(o SortKey) bool { return o.Key == "id" }) {
		out = append(out, SortKey{Key: "id", Desc: out[len(out)-1].Desc})
	}
	return out, nil
}

// sqlBuilder collects WHERE conditions over images i and their arguments.
type sqlBuilder struct {
	conds []string
	args  []any
}

// placeholder is an argument already added, to refer to it again.
type placeholder int

func (p placeholder) String() string { return "$" + strconv.Itoa(int(p)) }

// arg adds v and returns its placeholder.
func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return placeholder(len(b.args)).String()
}

func (b *sqlBuilder) add(format string, args ...any) {
	b.conds = append(b.conds, fmt.Sprintf(format, args...))
}

func (b *sqlBuilder) where() string {
	if len(b.conds) == 0 {
		return "true"
	}
	return strings.Join(b.conds, " AND ")
}

// visibility limits the listing to what c may see, in Glance's views.
func (b *sqlBuilder) visibility(c *token.Claims, visibility, memberStatus string) error {
	switch visibility {
	case "", "all", Private, Shared, Community, Public:
	default:
		return osapi.Errorf(http.StatusBadRequest, "Invalid visibility value: %s.", visibility)
	}
	switch memberStatus {
	case "", "all", "pending", "accepted", "rejected":
	default:
		return osapi.Errorf(http.StatusBadRequest, "Invalid member_status value: %s. It must be one of %s or all.",
			memberStatus, strings.Join(memberStates, ", "))
	}
	if policy.IsAdmin(c) || visibility == Public || visibility == Community {
		if visibility != "" && visibility != "all" {
			b.add("i.visibility = %s", b.arg(visibility))
		}
		return nil
	}
	project := b.arg(c.ProjectID)
	// member is the caller's membership of a shared image; built only when
	// used, since every argument must appear in the query.
	member := func() string {
		cond := "EXISTS (SELECT 1 FROM image_members im WHERE im.image_id = i.id AND im.member = " + project
		switch memberStatus {
		case "all":
		case "":
			cond += " AND im.status = 'accepted'"
		default:
			cond += " AND im.status = " + b.arg(memberStatus)
		}
		return cond + ")"
	}
	switch visibility {
	case "":
		b.add("(i.owner = %s OR i.visibility = 'public' OR (i.visibility = 'shared' AND %s))", project, member())
	case "all":
		b.add("(i.owner = %s OR i.visibility IN ('public', 'community') OR (i.visibility = 'shared' AND %s))", project, member())
	case Private:
		b.add("i.visibility = 'private' AND i.owner = %s", project)
	case Shared:
		b.add("i.visibility = 'shared' AND (i.owner = %s OR %s)", project, member())
	}
	return nil
}

// filters adds the attribute, tag, size, time and property filters.
func (b *sqlBuilder) filters(q ListQuery) error {
	for _, st := range q.Statuses {
		if !slices.Contains(statuses, st) {
			return osapi.Errorf(http.StatusBadRequest, "Invalid status value: %s.", st)
		}
	}
	for _, f := range []struct {
		col    string
		values []string
	}{{"id", q.IDs}, {"name", q.Names}, {"status", q.Statuses}, {"disk_format", q.DiskFormats},
		{"container_format", q.ContainerFormats}} {
		if len(f.values) > 0 {
			b.add("i.%s = ANY(%s)", f.col, b.arg(f.values))
		}
	}
	for _, f := range [][2]string{{"owner", q.Owner}, {"checksum", q.Checksum}, {"hash_value", q.HashValue}} {
		if f[1] != "" {
			b.add("i.%s = %s", f[0], b.arg(f[1]))
		}
	}
	if len(q.Tags) > 0 {
		b.add("i.tags @> %s::text[]", b.arg(q.Tags))
	}
	if q.Protected != nil {
		b.add("i.protected = %s", b.arg(*q.Protected))
	}
	if q.Hidden != nil && *q.Hidden {
		b.add("false") // no image is hidden
	}
	if q.SizeMin != nil {
		b.add("i.size >= %s", b.arg(*q.SizeMin))
	}
	if q.SizeMax != nil {
		b.add("i.size <= %s", b.arg(*q.SizeMax))
	}
	for _, t := range q.Times {
		op, ok := timeOperators[t.Op]
		if !ok || t.Attr != "created_at" && t.Attr != "updated_at" {
			return osapi.Errorf(http.StatusBadRequest, "Invalid time filter %s:%s: use gt, gte, lt, lte, eq or neq on created_at or updated_at.", t.Attr, t.Op)
		}
		b.add("i.%s %s %s", t.Attr, op, b.arg(t.At))
	}
	if len(q.Properties) > 0 {
		b.add("i.properties @> %s::jsonb", b.arg(q.Properties))
	}
	return nil
}

// keyset continues after the marker row m in the order of keys: the rows
// that sort after m on the first key, or tie on it and sort after on the
// next, and so on.
func (b *sqlBuilder) keyset(keys []SortKey) {
	var ors []string
	for i, k := range keys {
		var ands []string
		for _, prev := range keys[:i] {
			ands = append(ands, fmt.Sprintf("i.%s = m.%s", prev.Key, prev.Key))
		}
		op := ">"
		if k.Desc {
			op = "<"
		}
		ands = append(ands, fmt.Sprintf("i.%s %s m.%s", k.Key, op, k.Key))
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	b.add("(%s)", strings.Join(ors, " OR "))
}
