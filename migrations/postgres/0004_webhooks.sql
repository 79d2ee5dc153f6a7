-- Merchant webhooks: endpoints, the durable outbox of events, and one delivery per event and
-- endpoint with every attempt recorded.

CREATE TABLE webhook_endpoints (
    id              UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations (id),
    environment     TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    url             TEXT NOT NULL,
    -- Comma-separated event types.
    events          TEXT NOT NULL,
    -- The signing secret (whsec_…); it must be readable to sign, so it is stored as is.
    secret          TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    deleted_at      TIMESTAMPTZ
);
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (organization_id, environment);

CREATE TABLE webhook_events (
    id              UUID PRIMARY KEY,
    organization_id UUID NOT NULL,
    environment     TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    checkout_session_id UUID NOT NULL,
    -- The exact body every endpoint receives, signed as is.
    payload         TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              UUID PRIMARY KEY,
    event_id        UUID NOT NULL REFERENCES webhook_events (id),
    endpoint_id     UUID NOT NULL REFERENCES webhook_endpoints (id),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    -- A node working on the delivery holds it until then; a node that dies lets it go.
    locked_until    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);

CREATE TABLE webhook_attempts (
    id              UUID PRIMARY KEY,
    delivery_id     UUID NOT NULL REFERENCES webhook_deliveries (id),
    attempted_at    TIMESTAMPTZ NOT NULL,
    status_code     INTEGER,
    error           TEXT,
    duration_ms     BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempted_at);
