-- Compute (Nova subset): flavors, keypairs, server groups, hosts, servers and
-- the durable tasks that build and change servers.

-- This deployment's identity, written into every domain it defines, so a
-- reconciler only ever removes its own cloud's domains from a shared host.
CREATE TABLE deployment (
    id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    singleton boolean NOT NULL UNIQUE DEFAULT true CHECK (singleton)
);
INSERT INTO deployment DEFAULT VALUES;
CREATE TABLE flavors (
    id          text PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    vcpus       int NOT NULL CHECK (vcpus > 0),
    ram_mb      int NOT NULL CHECK (ram_mb > 0),
    disk_gb     int NOT NULL CHECK (disk_gb >= 0),
    ephemeral_gb int NOT NULL DEFAULT 0 CHECK (ephemeral_gb >= 0),
    swap_mb     int NOT NULL DEFAULT 0 CHECK (swap_mb >= 0),
    rxtx_factor double precision NOT NULL DEFAULT 1.0,
    is_public   boolean NOT NULL DEFAULT true,
    disabled    boolean NOT NULL DEFAULT false,
    description text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE flavor_extra_specs (
    flavor_id text NOT NULL REFERENCES flavors (id) ON DELETE CASCADE,
    key       text NOT NULL,
    value     text NOT NULL,
    PRIMARY KEY (flavor_id, key)
);

CREATE TABLE flavor_access (
    flavor_id  text NOT NULL REFERENCES flavors (id) ON DELETE CASCADE,
    project_id text NOT NULL,
    PRIMARY KEY (flavor_id, project_id)
);

CREATE TABLE keypairs (
    user_id     text NOT NULL,
    name        text NOT NULL,
    type        text NOT NULL DEFAULT 'ssh',
    public_key  text NOT NULL,
    fingerprint text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, name)
);

CREATE TABLE server_groups (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    policy     text NOT NULL CHECK (policy IN ('affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity')),
    project_id text NOT NULL,
    user_id    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A host is a libvirt URI. Capacity comes from the host; the allocation
-- ratios are Nova's defaults.
CREATE TABLE hosts (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    uri               text NOT NULL UNIQUE,
    name              text NOT NULL,
    availability_zone text NOT NULL DEFAULT 'nova',
    enabled           boolean NOT NULL DEFAULT true,
    up                boolean NOT NULL DEFAULT false,
    virt_type         text NOT NULL DEFAULT '',
    arch              text NOT NULL DEFAULT '',
    hostname          text NOT NULL DEFAULT '',
    vcpus             int NOT NULL DEFAULT 0,
    memory_mb         bigint NOT NULL DEFAULT 0,
    disk_gb           bigint NOT NULL DEFAULT 0,
    cpu_allocation_ratio  double precision NOT NULL DEFAULT 16.0,
    ram_allocation_ratio  double precision NOT NULL DEFAULT 1.5,
    disk_allocation_ratio double precision NOT NULL DEFAULT 1.0,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE servers (
    id                text PRIMARY KEY,
    name              text NOT NULL,
    project_id        text NOT NULL,
    user_id           text NOT NULL,
    flavor_id         text NOT NULL,
    -- The flavor as it was at boot (Nova embeds it; flavors may change later).
    vcpus             int NOT NULL,
    ram_mb            int NOT NULL,
    disk_gb           int NOT NULL,
    flavor_name       text NOT NULL,
    old_flavor        jsonb,
    image_id          text NOT NULL DEFAULT '',
    key_name          text,
    user_data         text,
    metadata          jsonb NOT NULL DEFAULT '{}',
    availability_zone text,
    config_drive      boolean NOT NULL DEFAULT true,
    server_group_id   text REFERENCES server_groups (id) ON DELETE SET NULL,
    host_id           uuid REFERENCES hosts (id),
    vm_state          text NOT NULL,
    task_state        text,
    power_state       int NOT NULL DEFAULT 0,
    fault             jsonb,
    launched_at       timestamptz,
    terminated_at     timestamptz,
    deleted           boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX servers_project ON servers (project_id) WHERE NOT deleted;
CREATE INDEX servers_host ON servers (host_id) WHERE NOT deleted;
CREATE INDEX servers_group ON servers (server_group_id) WHERE NOT deleted;

-- Durable work on servers. A worker leases a task; a lease that runs out
-- (the worker died) makes the task eligible again, and every step is
-- idempotent, so a resumed task finishes the job.
CREATE TABLE tasks (
    id           bigserial PRIMARY KEY,
    server_id    text NOT NULL REFERENCES servers (id),
    kind         text NOT NULL,
    args         jsonb NOT NULL DEFAULT '{}',
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    attempts     int NOT NULL DEFAULT 0,
    last_error   text,
    leased_until timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_pending ON tasks (id) WHERE state = 'pending';
