package image

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Member is a project an image with visibility shared is shared with.
// The owner adds and removes members; each member project accepts or
// rejects the image for itself, which decides whether the image appears in
// its default listing.
type Member struct {
	ImageID, MemberID, Status string
	CreatedAt, UpdatedAt      time.Time
}

const memberCols = "image_id, member, status, created_at, updated_at"

func scanMember(row pgx.CollectableRow) (Member, error) {
	var m Member
	err := row.Scan(&m.ImageID, &m.MemberID, &m.Status, &m.CreatedAt, &m.UpdatedAt)
	return m, err
}

func onlyShared(img Image) error {
	if img.Visibility != Shared {
		return osapi.Errorf(http.StatusForbidden, "Only shared images have members; image %s is %s.", img.ID, img.Visibility)
	}
	return nil
}

func memberNotFound(id, member string) error {
	return osapi.Errorf(http.StatusNotFound, "Project %s is not a member of image %s.", member, id)
}

// AddMember shares image id with project member (status pending).
func (s *Service) AddMember(ctx context.Context, c *token.Claims, id, member string) (Member, error) {
	if member == "" {
		return Member{}, osapi.Errorf(http.StatusBadRequest, "'member' is a required property: the id of the project to share with.")
	}
	var out Member
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		img, err := writable(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if err := onlyShared(img); err != nil {
			return err
		}
		var count int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM image_members WHERE image_id = $1", id).Scan(&count); err != nil {
			return err
		}
		if count >= maxMembers {
			return osapi.Errorf(http.StatusRequestEntityTooLarge, "Image %s already has the maximum of %d members.", id, maxMembers)
		}
		rows, _ := tx.Query(ctx, `INSERT INTO image_members (image_id, member) VALUES ($1, $2)
			ON CONFLICT DO NOTHING RETURNING `+memberCols, id, member)
		out, err = pgx.CollectExactlyOneRow(rows, scanMember)
		if errors.Is(err, pgx.ErrNoRows) {
			return osapi.Errorf(http.StatusConflict, "Member %s already associated with image %s.", member, id)
		}
		return err
	})
	return out, err
}

// ListMembers returns the members of a shared image: all of them to its
// owner and admins, only its own membership to a member project.
func (s *Service) ListMembers(ctx context.Context, c *token.Claims, id string) ([]Member, error) {
	img, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if err := onlyShared(img); err != nil {
		return nil, err
	}
	only := ""
	if !policy.IsAdmin(c) && img.Owner != c.ProjectID {
		only = c.ProjectID
	}
	rows, _ := s.pool.Query(ctx, "SELECT "+memberCols+` FROM image_members
		WHERE image_id = $1 AND ($2 = '' OR member = $2) ORDER BY created_at, member`, id, only)
	return pgx.CollectRows(rows, scanMember)
}

// GetMember returns one membership; a member project sees only its own.
func (s *Service) GetMember(ctx context.Context, c *token.Claims, id, member string) (Member, error) {
	members, err := s.ListMembers(ctx, c, id)
	if err != nil {
		return Member{}, err
	}
	i := slices.IndexFunc(members, func(m Member) bool { return m.MemberID == member })
	if i < 0 {
		return Member{}, memberNotFound(id, member)
	}
	return members[i], nil
}

// UpdateMember sets a membership's status (pending, accepted, rejected).
// Only the member project itself (or an admin) decides.
func (s *Service) UpdateMember(ctx context.Context, c *token.Claims, id, member, status string) (Member, error) {
	if !slices.Contains(memberStates, status) {
		return Member{}, osapi.Errorf(http.StatusBadRequest, "Invalid status '%s': it must be pending, accepted or rejected.", status)
	}
	if _, err := s.GetMember(ctx, c, id, member); err != nil {
		return Member{}, err
	}
	if member != c.ProjectID && !policy.IsAdmin(c) {
		return Member{}, osapi.Errorf(http.StatusForbidden, "Only project %s may accept or reject its membership of image %s.", member, id)
	}
	rows, _ := s.pool.Query(ctx, `UPDATE image_members SET status = $3, updated_at = now()
		WHERE image_id = $1 AND member = $2 RETURNING `+memberCols, id, member, status)
	m, err := pgx.CollectExactlyOneRow(rows, scanMember)
	if errors.Is(err, pgx.ErrNoRows) {
		return Member{}, memberNotFound(id, member)
	}
	return m, err
}

// RemoveMember stops sharing image id with member.
func (s *Service) RemoveMember(ctx context.Context, c *token.Claims, id, member string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		img, err := writable(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if err := onlyShared(img); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "DELETE FROM image_members WHERE image_id = $1 AND member = $2", id, member)
		if err == nil && tag.RowsAffected() == 0 {
			return memberNotFound(id, member)
		}
		return err
	})
}
