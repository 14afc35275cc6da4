-- Networking (Neutron v2.0 subset): networks, subnets, ports with their IPAM
-- allocations, security groups, routers and floating IPs.

CREATE TABLE networks (
    id              text PRIMARY KEY,
    project_id      text NOT NULL,
    name            text NOT NULL DEFAULT '',
    description     text NOT NULL DEFAULT '',
    admin_state_up  boolean NOT NULL DEFAULT true,
    shared          boolean NOT NULL DEFAULT false,
    external        boolean NOT NULL DEFAULT false,
    mtu             int NOT NULL DEFAULT 1500,
    revision_number bigint NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX networks_project ON networks (project_id);

-- allocation_pools is [{"start": "...", "end": "..."}]; host_routes is
-- [{"destination": "...", "nexthop": "..."}].
CREATE TABLE subnets (
    id               text PRIMARY KEY,
    network_id       text NOT NULL REFERENCES networks (id),
    project_id       text NOT NULL,
    name             text NOT NULL DEFAULT '',
    description      text NOT NULL DEFAULT '',
    ip_version       int NOT NULL CHECK (ip_version IN (4, 6)),
    cidr             cidr NOT NULL,
    gateway_ip       inet,
    enable_dhcp      boolean NOT NULL DEFAULT true,
    dns_nameservers  text[] NOT NULL DEFAULT '{}',
    host_routes      jsonb NOT NULL DEFAULT '[]',
    allocation_pools jsonb NOT NULL DEFAULT '[]',
    revision_number  bigint NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subnets_network ON subnets (network_id);

-- A port's place among its device's ports: taken when the port is attached
-- (created for a device or claimed by one), so a server's NICs follow the
-- order of its create request's "networks", as Nova orders them.
CREATE SEQUENCE port_attach_order;

CREATE TABLE ports (
    id                    text PRIMARY KEY,
    network_id            text NOT NULL REFERENCES networks (id),
    project_id            text NOT NULL,
    name                  text NOT NULL DEFAULT '',
    description           text NOT NULL DEFAULT '',
    mac_address           text NOT NULL UNIQUE,
    admin_state_up        boolean NOT NULL DEFAULT true,
    device_id             text NOT NULL DEFAULT '',
    device_owner          text NOT NULL DEFAULT '',
    port_security_enabled boolean NOT NULL DEFAULT true,
    binding_host_id       text NOT NULL DEFAULT '',
    -- Created by compute for a server (deleted with it) rather than passed in
    -- by the user (only unbound when the server goes), as Nova tracks it.
    delete_with_device    boolean NOT NULL DEFAULT false,
    attach_order          bigint NOT NULL DEFAULT nextval('port_attach_order'),
    revision_number       bigint NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ports_network ON ports (network_id);
CREATE INDEX ports_project ON ports (project_id);
CREATE INDEX ports_device ON ports (device_id) WHERE device_id <> '';
CREATE INDEX ports_host ON ports (binding_host_id) WHERE binding_host_id <> '';
-- One DHCP port per network, even when two replicas create it at once.
CREATE UNIQUE INDEX ports_network_dhcp ON ports (network_id) WHERE device_owner = 'network:dhcp';

-- IPAM: an address is handed out at most once per subnet, enforced by the
-- primary key, so concurrent allocations never need a cloud-wide lock.
CREATE TABLE ip_allocations (
    subnet_id  text NOT NULL REFERENCES subnets (id),
    address    inet NOT NULL,
    port_id    text NOT NULL REFERENCES ports (id) ON DELETE CASCADE,
    PRIMARY KEY (subnet_id, address)
);
CREATE INDEX ip_allocations_port ON ip_allocations (port_id);

CREATE TABLE security_groups (
    id              text PRIMARY KEY,
    project_id      text NOT NULL,
    name            text NOT NULL,
    description     text NOT NULL DEFAULT '',
    is_default      boolean NOT NULL DEFAULT false,
    revision_number bigint NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- One default group per project, even when two first requests race.
CREATE UNIQUE INDEX security_groups_default ON security_groups (project_id) WHERE is_default;

CREATE TABLE security_group_rules (
    id                text PRIMARY KEY,
    security_group_id text NOT NULL REFERENCES security_groups (id) ON DELETE CASCADE,
    project_id        text NOT NULL,
    direction         text NOT NULL CHECK (direction IN ('ingress', 'egress')),
    ethertype         text NOT NULL CHECK (ethertype IN ('IPv4', 'IPv6')),
    protocol          text,
    port_range_min    int,
    port_range_max    int,
    remote_ip_prefix  cidr,
    remote_group_id   text REFERENCES security_groups (id) ON DELETE CASCADE,
    description       text NOT NULL DEFAULT '',
    revision_number   bigint NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
-- Neutron refuses a rule identical to an existing one (SecurityGroupRuleExists).
CREATE UNIQUE INDEX security_group_rules_unique ON security_group_rules (security_group_id, direction, ethertype,
    coalesce(protocol, ''), coalesce(port_range_min, -1), coalesce(port_range_max, -1),
    coalesce(remote_ip_prefix::text, ''), coalesce(remote_group_id, ''));

CREATE TABLE port_security_groups (
    port_id           text NOT NULL REFERENCES ports (id) ON DELETE CASCADE,
    security_group_id text NOT NULL REFERENCES security_groups (id),
    PRIMARY KEY (port_id, security_group_id)
);
CREATE INDEX port_security_groups_group ON port_security_groups (security_group_id);

CREATE TABLE routers (
    id                  text PRIMARY KEY,
    project_id          text NOT NULL,
    name                text NOT NULL DEFAULT '',
    description         text NOT NULL DEFAULT '',
    admin_state_up      boolean NOT NULL DEFAULT true,
    external_network_id text REFERENCES networks (id),
    enable_snat         boolean NOT NULL DEFAULT true,
    gw_port_id          text REFERENCES ports (id) ON DELETE SET NULL,
    revision_number     bigint NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE floatingips (
    id                  text PRIMARY KEY,
    project_id          text NOT NULL,
    description         text NOT NULL DEFAULT '',
    floating_network_id text NOT NULL REFERENCES networks (id),
    floating_port_id    text NOT NULL REFERENCES ports (id),
    floating_ip_address inet NOT NULL,
    port_id             text REFERENCES ports (id),
    fixed_ip_address    inet,
    router_id           text REFERENCES routers (id),
    revision_number     bigint NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX floatingips_fixed ON floatingips (port_id, fixed_ip_address) WHERE port_id IS NOT NULL;

-- Tags of any networking resource (ids are unique across kinds).
CREATE TABLE network_tags (
    resource_id text NOT NULL,
    tag         text NOT NULL,
    PRIMARY KEY (resource_id, tag)
);
