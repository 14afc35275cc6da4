-- Identity: one domain ("default") is implied and not stored.
CREATE TABLE projects (
    id          text PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    description text NOT NULL DEFAULT '',
    enabled     boolean NOT NULL DEFAULT true,
    tags        text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id                  text PRIMARY KEY,
    name                text NOT NULL UNIQUE,
    description         text NOT NULL DEFAULT '',
    email               text NOT NULL DEFAULT '',
    enabled             boolean NOT NULL DEFAULT true,
    default_project_id  text REFERENCES projects (id) ON DELETE SET NULL,
    password_hash       text,
    password_changed_at timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE roles (
    id          text PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    description text NOT NULL DEFAULT ''
);

CREATE TABLE implied_roles (
    prior_role_id   text NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    implied_role_id text NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (prior_role_id, implied_role_id),
    CHECK (prior_role_id <> implied_role_id)
);

CREATE TABLE role_assignments (
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    role_id    text NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, project_id, role_id)
);
CREATE INDEX role_assignments_project ON role_assignments (project_id);
CREATE INDEX role_assignments_role ON role_assignments (role_id);

CREATE TABLE application_credentials (
    id           text PRIMARY KEY,
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id   text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    secret_hash  text NOT NULL,
    unrestricted boolean NOT NULL DEFAULT false,
    expires_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, name)
);

CREATE TABLE application_credential_roles (
    application_credential_id text NOT NULL REFERENCES application_credentials (id) ON DELETE CASCADE,
    role_id                   text NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (application_credential_id, role_id)
);

CREATE TABLE services (
    id          text PRIMARY KEY,
    type        text NOT NULL,
    name        text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    enabled     boolean NOT NULL DEFAULT true
);

CREATE TABLE endpoints (
    id         text PRIMARY KEY,
    service_id text NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    interface  text NOT NULL CHECK (interface IN ('public', 'internal', 'admin')),
    region_id  text NOT NULL DEFAULT 'RegionOne',
    url        text NOT NULL,
    enabled    boolean NOT NULL DEFAULT true
);

-- Ed25519 token signing keys; the newest key older than the staging delay
-- signs, every key listed here verifies.
CREATE TABLE token_keys (
    id          serial PRIMARY KEY,
    private_key bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Keystone-style revocation events; kept for one token lifetime.
CREATE TABLE revocations (
    id             bigserial PRIMARY KEY,
    audit_id       text NOT NULL DEFAULT '',
    audit_chain_id text NOT NULL DEFAULT '',
    user_id        text NOT NULL DEFAULT '',
    project_id     text NOT NULL DEFAULT '',
    app_cred_id    text NOT NULL DEFAULT '',
    issued_before  timestamptz NOT NULL
);
CREATE INDEX revocations_issued_before ON revocations (issued_before);
