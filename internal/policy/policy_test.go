package policy

import (
	"errors"
	"testing"

	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/token"
)

func TestAuthorize(t *testing.T) {
	const own, other = "p1", "p2"
	admin := &token.Claims{ProjectID: own, Roles: token.RoleAdmin | token.RoleMember | token.RoleReader}
	member := &token.Claims{ProjectID: own, Roles: token.RoleMember | token.RoleReader}
	reader := &token.Claims{ProjectID: own, Roles: token.RoleReader}
	unscoped := &token.Claims{}
	for _, tc := range []struct {
		name    string
		claims  *token.Claims
		action  Action
		project string
		want    error
	}{
		{"admin writes elsewhere", admin, Write, other, nil},
		{"admin admin call", admin, Admin, "", nil},
		{"member writes own", member, Write, own, nil},
		{"member reads own", member, Read, own, nil},
		{"member reads other: not found", member, Read, other, osapi.ErrNotFound},
		{"member admin call: forbidden", member, Admin, "", osapi.ErrForbidden},
		{"reader reads own", reader, Read, own, nil},
		{"reader writes own: forbidden", reader, Write, own, osapi.ErrForbidden},
		{"reader reads cloud-wide", reader, Read, "", nil},
		{"unscoped reads cloud-wide: forbidden", unscoped, Read, "", osapi.ErrForbidden},
		{"no token", nil, Read, own, osapi.ErrUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Authorize(tc.claims, tc.action, tc.project, "thing")
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}
