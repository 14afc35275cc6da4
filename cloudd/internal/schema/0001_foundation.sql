-- Lifecycle events (see internal/outbox) and per-project limits (internal/quota).
CREATE TABLE events (
    id       bigserial PRIMARY KEY,
    seq      bigint UNIQUE,
    event_id uuid NOT NULL,
    source   text NOT NULL,
    type     text NOT NULL,
    subject  text NOT NULL,
    time     timestamptz NOT NULL,
    data     jsonb NOT NULL
);
CREATE INDEX events_unsequenced ON events (id) WHERE seq IS NULL;

CREATE TABLE quotas (
    project_id text NOT NULL,
    resource   text NOT NULL,
    hard_limit bigint NOT NULL,
    PRIMARY KEY (project_id, resource)
);
