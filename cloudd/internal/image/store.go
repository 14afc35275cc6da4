package image

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/token"
)

// imageCols are the columns scanImage reads, in order, qualified by the
// alias i.
const imageCols = `i.id, i.name, i.status, i.disk_format, i.container_format, i.visibility, i.owner,
	i.size, i.virtual_size, i.min_disk, i.min_ram, i.protected, i.checksum, i.hash_algo, i.hash_value,
	i.properties, i.tags, i.created_at, i.updated_at`

func scanImage(row pgx.CollectableRow) (Image, error) {
	var img Image
	err := row.Scan(&img.ID, &img.Name, &img.Status, &img.DiskFormat, &img.ContainerFormat, &img.Visibility, &img.Owner,
		&img.Size, &img.VirtualSize, &img.MinDisk, &img.MinRAM, &img.Protected, &img.Checksum, &img.HashAlgo, &img.HashValue,
		&img.Properties, &img.Tags, &img.CreatedAt, &img.UpdatedAt)
	if img.Properties == nil {
		img.Properties = map[string]string{}
	}
	return img, err
}

// visible loads image id as c sees it: 404 if it does not exist or c may
// not see it. With lock the row stays locked until q (a transaction) ends.
func visible(ctx context.Context, q db.Querier, c *token.Claims, id string, lock bool) (Image, error) {
	if err := checkCaller(c); err != nil {
		return Image{}, err
	}
	sql := "SELECT " + imageCols + `, coalesce((SELECT m.status FROM image_members m
		WHERE m.image_id = i.id AND m.member = $2), '') FROM images i WHERE i.id = $1`
	if lock {
		sql += " FOR UPDATE OF i"
	}
	var memberStatus string
	rows, _ := q.Query(ctx, sql, id, c.ProjectID)
	img, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (Image, error) {
		return scanImage(&withMember{row, &memberStatus})
	})
	if errors.Is(err, pgx.ErrNoRows) || err == nil && !canSee(c, img, memberStatus) {
		return Image{}, notFound(id)
	}
	return img, err
}

// writable loads and locks image id inside tx for a change by c.
func writable(ctx context.Context, tx pgx.Tx, c *token.Claims, id string) (Image, error) {
	img, err := visible(ctx, tx, c, id, true)
	if err != nil {
		return Image{}, err
	}
	return img, checkModify(c, img)
}

// withMember scans the image columns and then the caller's membership.
type withMember struct {
	pgx.CollectableRow
	member *string
}

func (w *withMember) Scan(dest ...any) error { return w.CollectableRow.Scan(append(dest, w.member)...) }

// updateReturning runs an UPDATE of image id that ends in
// "RETURNING "+imageCols and collects the image.
func updateReturning(ctx context.Context, q db.Querier, sql string, args ...any) (Image, error) {
	rows, _ := q.Query(ctx, sql+" RETURNING "+imageCols, args...)
	return pgx.CollectExactlyOneRow(rows, scanImage)
}
