package keystone_test

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
)

func TestPasswordLoginReadsCatalog(t *testing.T) {
	cloud := cloudtest.Start(t)
	idc := cloudtest.Identity(t, cloud.Admin(t))
	res := tokens.Get(context.Background(), idc, idc.TokenID)
	catalog, err := res.ExtractServiceCatalog()
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for _, e := range catalog.Entries {
		types[e.Type] = true
		if len(e.Endpoints) != 3 {
			t.Errorf("%s has %d endpoints, want public, internal and admin", e.Type, len(e.Endpoints))
		}
	}
	if !types["identity"] {
		t.Errorf("catalog lacks identity: %+v", catalog.Entries)
	}
}
