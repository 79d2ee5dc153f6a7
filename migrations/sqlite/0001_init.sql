-- caisse on SQLite: UUIDs are 16-byte BLOBs, times RFC 3339 text in UTC (which sorts in time
-- order, as every time is written by the server in one format), JSON is text.

CREATE TABLE organizations (
    id              BLOB PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    -- Space-separated origins allowed to frame the checkout page (CSP frame-ancestors).
    allowed_origins TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL
);

CREATE TABLE api_keys (
    id              BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id),
    environment     TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    key_hash        TEXT NOT NULL UNIQUE,
    prefix          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    revoked_at      TEXT
);

CREATE TABLE checkout_sessions (
    checkout_session_id BLOB PRIMARY KEY NOT NULL,
    organization_id     BLOB NOT NULL REFERENCES organizations (id),
    created_by          TEXT NOT NULL,
    environment         TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    status              TEXT NOT NULL CHECK (status IN ('open', 'completed', 'expired')),
    amount              INTEGER NOT NULL CHECK (amount > 0),
    currency_code       TEXT NOT NULL,
    quantity            INTEGER NOT NULL CHECK (quantity > 0),
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
    customer_id         BLOB,
    metadata            TEXT,
    success_url         TEXT,
    cancel_url          TEXT,
    expires_at          TEXT NOT NULL,
    qr_code_type        TEXT NOT NULL CHECK (qr_code_type IN ('static', 'dynamic')),
    qr_code_data        TEXT,
    spi_account_number  TEXT,
    spi_qr_code_id      BLOB,
    qr_payload          TEXT,
    payment_link_id     BLOB,
    payment_request_id  BLOB,
    price_id            BLOB,
    product_id          BLOB,
    subscription_id     BLOB,
    installment_plan_id BLOB,
    coupon_id           BLOB,
    coupon_code         TEXT,
    amount_discount     INTEGER NOT NULL DEFAULT 0,
    payment_provider    TEXT,
    provider_reference  TEXT,
    completed_at        TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

CREATE INDEX checkout_sessions_listing ON checkout_sessions (organization_id, environment, created_at);
CREATE INDEX checkout_sessions_expiry ON checkout_sessions (expires_at) WHERE status = 'open';

CREATE TABLE idempotency_keys (
    organization_id BLOB NOT NULL,
    environment     TEXT NOT NULL,
    key             TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    status_code     INTEGER NOT NULL,
    response_body   TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (organization_id, environment, key)
);
