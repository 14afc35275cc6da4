package outbox

import (
	"net/http"
	"strconv"
	"time"

	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
)

// MaxWait bounds a long poll.
const MaxWait = 60 * time.Second

type eventJSON struct {
	SpecVersion     string `json:"specversion"`
	DataContentType string `json:"datacontenttype"`
	Event
}

// ServeHTTP answers GET ?after=<seq>&limit=<n>&wait=<seconds> for admins
// with {"events": [...], "next_after": <seq>}. A consumer stores next_after
// and passes it back as after; nothing is skipped or repeated.
func (f *Feed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := policy.Authorize(policy.ClaimsFrom(r.Context()), policy.Admin, "", "the event feed"); err != nil {
		osapi.WriteError(w, r, err)
		return
	}
	q := r.URL.Query()
	after, err := intParam(q.Get("after"), 0)
	if err != nil {
		osapi.WriteError(w, r, osapi.Errorf(http.StatusBadRequest, "after must be a non-negative integer."))
		return
	}
	wait, err := intParam(q.Get("wait"), 0)
	if err != nil || time.Duration(wait)*time.Second > MaxWait {
		osapi.WriteError(w, r, osapi.Errorf(http.StatusBadRequest, "wait must be a number of seconds from 0 to %d.", int(MaxWait.Seconds())))
		return
	}
	page, err := osapi.ParsePage(r)
	if err != nil {
		osapi.WriteError(w, r, err)
		return
	}
	events, err := f.Read(r.Context(), after, page.Limit, time.Duration(wait)*time.Second)
	if err != nil {
		osapi.WriteError(w, r, err)
		return
	}
	out := make([]eventJSON, len(events))
	next := after
	for i, e := range events {
		out[i] = eventJSON{SpecVersion: "1.0", DataContentType: "application/json", Event: e}
		next = e.Seq
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"events": out, "next_after": next})
}

func intParam(s string, def int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, strconv.ErrSyntax
	}
	return n, nil
}
