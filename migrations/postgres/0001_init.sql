-- caisse on PostgreSQL: the same tables as on SQLite, in PostgreSQL's own types.

CREATE TABLE organizations (
    id              UUID PRIMARY KEY,
    name            TEXT NOT NULL,
    -- Space-separated origins allowed to frame the checkout page (CSP frame-ancestors).
    allowed_origins TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
    id              UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations (id),
    environment     TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    key_hash        TEXT NOT NULL UNIQUE,
    prefix          TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ
);

CREATE TABLE checkout_sessions (
    checkout_session_id UUID PRIMARY KEY,
    organization_id     UUID NOT NULL REFERENCES organizations (id),
    created_by          TEXT NOT NULL,
    environment         TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    status              TEXT NOT NULL CHECK (status IN ('open', 'completed', 'expired')),
    amount              BIGINT NOT NULL CHECK (amount > 0),
    currency_code       TEXT NOT NULL,
    quantity            BIGINT NOT NULL CHECK (quantity > 0),
    allow_quantity      BOOLEAN NOT NULL,
    allow_coupon_code   BOOLEAN NOT NULL,
    is_pos              BOOLEAN NOT NULL,
    is_spi              BOOLEAN NOT NULL,
    allowed_providers   TEXT,
    title               TEXT NOT NULL,
    public_description  TEXT,
    customer_name       TEXT,
    customer_email      TEXT,
    customer_phone      TEXT,
    customer_id         UUID,
    metadata            JSONB,
    success_url         TEXT,
    cancel_url          TEXT,
    expires_at          TIMESTAMPTZ NOT NULL,
    qr_code_type        TEXT NOT NULL CHECK (qr_code_type IN ('static', 'dynamic')),
    qr_code_data        JSONB,
    spi_account_number  TEXT,
    spi_qr_code_id      UUID,
    qr_payload          TEXT,
    payment_link_id     UUID,
    payment_request_id  UUID,
    price_id            UUID,
    product_id          UUID,
    subscription_id     UUID,
    installment_plan_id UUID,
    coupon_id           UUID,
    coupon_code         TEXT,
    amount_discount     BIGINT NOT NULL DEFAULT 0,
    payment_provider    TEXT,
    provider_reference  TEXT,
    completed_at        TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);

CREATE INDEX checkout_sessions_listing ON checkout_sessions (organization_id, environment, created_at);
CREATE INDEX checkout_sessions_expiry ON checkout_sessions (expires_at) WHERE status = 'open';

CREATE TABLE idempotency_keys (
    organization_id UUID NOT NULL,
    environment     TEXT NOT NULL,
    key             TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    status_code     INTEGER NOT NULL,
    response_body   TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organization_id, environment, key)
);
