-- Images (Glance v2). The data lives in the content store on disk
-- (<state dir>/images/<id>); these rows are the records and their state.
CREATE TABLE images (
    id               text PRIMARY KEY,
    name             text NOT NULL DEFAULT '',
    status           text NOT NULL CHECK (status IN
                         ('queued', 'saving', 'uploading', 'importing', 'active', 'deactivated', 'killed')),
    disk_format      text NOT NULL DEFAULT '',
    container_format text NOT NULL DEFAULT '',
    visibility       text NOT NULL CHECK (visibility IN ('private', 'shared', 'community', 'public')),
    owner            text NOT NULL,
    size             bigint NOT NULL DEFAULT 0,
    virtual_size     bigint NOT NULL DEFAULT 0,
    min_disk         integer NOT NULL DEFAULT 0 CHECK (min_disk >= 0),
    min_ram          integer NOT NULL DEFAULT 0 CHECK (min_ram >= 0),
    protected        boolean NOT NULL DEFAULT false,
    checksum         text NOT NULL DEFAULT '',  -- md5, hex
    hash_algo        text NOT NULL DEFAULT '',  -- os_hash_algo
    hash_value       text NOT NULL DEFAULT '',  -- os_hash_value, hex
    detected_format  text NOT NULL DEFAULT '',  -- what the format inspector saw in the data
    properties       jsonb NOT NULL DEFAULT '{}',
    tags             text[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX images_owner ON images (owner);
CREATE INDEX images_listing ON images (created_at DESC, id DESC);
CREATE INDEX images_public ON images (visibility) WHERE visibility IN ('public', 'community');

-- Projects an image with visibility "shared" is shared with.
CREATE TABLE image_members (
    image_id   text NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    member     text NOT NULL,
    status     text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (image_id, member)
);
CREATE INDEX image_members_member ON image_members (member, status);
