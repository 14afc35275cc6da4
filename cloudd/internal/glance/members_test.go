package glance_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/members"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
)

// TestSharedImageMembers shares an image with another project, which
// sees it at once but lists it only once it accepts.
func TestSharedImageMembers(t *testing.T) {
	ctx := context.Background()
	cloud := cloudtest.Start(t)
	alice := imageClient(t, cloud.Member(t, "alice"))
	bob := imageClient(t, cloud.Member(t, "bob"))
	bobProjectID := cloud.MemberProject(t, "bob")

	shared := images.ImageVisibilityShared
	img := createImage(t, alice, images.CreateOpts{Name: "to-share", Visibility: &shared})
	listed := func() bool {
		page, err := images.List(bob, images.ListOpts{}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		list, _ := images.ExtractImages(page)
		return slices.ContainsFunc(list, func(i images.Image) bool { return i.ID == img.ID })
	}
	if _, err := images.Get(ctx, bob, img.ID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("bob gets an image not shared with him: %v, want 404", err)
	}

	m, err := members.Create(ctx, alice, img.ID, bobProjectID).Extract()
	if err != nil || m.Status != "pending" || m.MemberID != bobProjectID || m.ImageID != img.ID {
		t.Fatalf("add member: %+v, %v", m, err)
	}
	if _, err := members.Create(ctx, alice, img.ID, bobProjectID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Errorf("adding a member twice: %v, want 409", err)
	}
	if _, err := images.Get(ctx, bob, img.ID).Extract(); err != nil {
		t.Errorf("bob gets the image shared with him: %v", err)
	}
	if listed() {
		t.Error("a pending shared image is in bob's default listing")
	}
	if _, err := members.Update(ctx, alice, img.ID, bobProjectID, members.UpdateOpts{Status: "accepted"}).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Errorf("the owner accepting for the member: %v, want 403", err)
	}
	if m, err := members.Update(ctx, bob, img.ID, bobProjectID, members.UpdateOpts{Status: "accepted"}).Extract(); err != nil || m.Status != "accepted" {
		t.Fatalf("bob accepts: %+v, %v", m, err)
	}
	if !listed() {
		t.Error("an accepted shared image is not in bob's default listing")
	}
	page, err := members.List(alice, img.ID).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := members.ExtractMembers(page); len(list) != 1 || list[0].MemberID != bobProjectID || list[0].Status != "accepted" {
		t.Errorf("members: %+v", list)
	}
	if err := members.Delete(ctx, alice, img.ID, bobProjectID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := images.Get(ctx, bob, img.ID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("bob gets the image after removal: %v, want 404", err)
	}

	private := images.ImageVisibilityPrivate
	priv := createImage(t, alice, images.CreateOpts{Name: "private", Visibility: &private})
	if _, err := members.Create(ctx, alice, priv.ID, bobProjectID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Errorf("adding a member to a private image: %v, want 403", err)
	}
}
