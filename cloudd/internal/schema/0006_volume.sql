-- Block storage (Cinder v3 subset): volume types, volumes, snapshots,
-- attachments, and the durable tasks that fill volumes with data.

-- A deleted type stays as a row (deleted volumes still name it), as in Cinder.
CREATE TABLE volume_types (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    is_public   boolean NOT NULL DEFAULT true,
    extra_specs jsonb NOT NULL DEFAULT '{}',
    deleted     boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX volume_types_name ON volume_types (name) WHERE NOT deleted;
-- Cinder's default type; volumes created without a type get it.
INSERT INTO volume_types (id, name, description, extra_specs)
VALUES (gen_random_uuid()::text, '__DEFAULT__', 'Default Volume Type', '{"volume_backend_name": "dir"}');

-- A volume lives on one host (a libvirt storage pool there); host_id is
-- set when the volume is created, before any disk exists.
CREATE TABLE volumes (
    id                text PRIMARY KEY,
    name              text NOT NULL DEFAULT '',
    description       text NOT NULL DEFAULT '',
    project_id        text NOT NULL,
    user_id           text NOT NULL,
    size_gb           int NOT NULL CHECK (size_gb > 0),
    type_id           text NOT NULL REFERENCES volume_types (id),
    status            text NOT NULL CHECK (status IN ('creating', 'available', 'reserved', 'attaching', 'in-use',
                          'detaching', 'extending', 'deleting', 'error', 'error_deleting', 'error_extending')),
    host_id           uuid REFERENCES hosts (id) ON DELETE SET NULL, -- a host with live volumes is never removed
    availability_zone text NOT NULL DEFAULT 'nova',
    bootable          boolean NOT NULL DEFAULT false,
    source_image_id   text,
    source_volume_id  text,
    snapshot_id       text,
    metadata          jsonb NOT NULL DEFAULT '{}',
    image_metadata    jsonb NOT NULL DEFAULT '{}',
    deleted           boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX volumes_project ON volumes (project_id) WHERE NOT deleted;
CREATE INDEX volumes_listing ON volumes (created_at DESC, id DESC) WHERE NOT deleted;

CREATE TABLE volume_snapshots (
    id          text PRIMARY KEY,
    name        text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    project_id  text NOT NULL,
    user_id     text NOT NULL,
    volume_id   text NOT NULL REFERENCES volumes (id),
    size_gb     int NOT NULL,
    status      text NOT NULL CHECK (status IN ('creating', 'available', 'deleting', 'error', 'error_deleting')),
    metadata    jsonb NOT NULL DEFAULT '{}',
    deleted     boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX volume_snapshots_project ON volume_snapshots (project_id) WHERE NOT deleted;
CREATE INDEX volume_snapshots_volume ON volume_snapshots (volume_id) WHERE NOT deleted;

-- One row per attachment; a volume (not multiattach) has at most one.
CREATE TABLE volume_attachments (
    id                    text PRIMARY KEY,
    volume_id             text NOT NULL REFERENCES volumes (id),
    server_id             text NOT NULL,
    device                text NOT NULL,
    delete_on_termination boolean NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX volume_attachments_one ON volume_attachments (volume_id);
CREATE INDEX volume_attachments_server ON volume_attachments (server_id);

-- Durable work on volumes (see internal/tasks): copying an image, a
-- snapshot or another volume into a new volume, and deleting disks.
CREATE TABLE volume_tasks (
    id           bigserial PRIMARY KEY,
    subject      text NOT NULL,
    kind         text NOT NULL,
    args         jsonb NOT NULL DEFAULT '{}',
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    attempts     int NOT NULL DEFAULT 0,
    last_error   text,
    leased_until timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX volume_tasks_pending ON volume_tasks (id) WHERE state = 'pending';
