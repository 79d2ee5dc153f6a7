-- The catalog: products and their prices. A price is standard (one amount) or pay what you
-- want (bounds the customer chooses within; amount, if set, is the one suggested). A product has
-- at most one default price, which the unique index holds under concurrent writes.
--
-- DELETE keeps the rows (deleted_at set) for the sessions and links that name them; every
-- read of the API leaves them out.

CREATE TABLE products (
    product_id      UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations (id),
    environment     TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    name            TEXT NOT NULL,
    description     TEXT,
    image_url       TEXT,
    is_active       BOOLEAN NOT NULL DEFAULT TRUE,
    metadata        JSONB,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    deleted_at      TIMESTAMPTZ
);

CREATE INDEX products_listing
    ON products (organization_id, environment, created_at) WHERE deleted_at IS NULL;

CREATE TABLE prices (
    price_id        UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations (id),
    environment     TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    product_id      UUID NOT NULL REFERENCES products (product_id),
    pricing_model   TEXT NOT NULL CHECK (pricing_model IN ('standard', 'pay_what_you_want')),
    amount          BIGINT CHECK (amount > 0),
    currency_code   TEXT NOT NULL,
    minimum_amount  BIGINT CHECK (minimum_amount > 0),
    maximum_amount  BIGINT CHECK (maximum_amount >= minimum_amount),
    is_default      BOOLEAN NOT NULL DEFAULT FALSE,
    is_active       BOOLEAN NOT NULL DEFAULT TRUE,
    metadata        JSONB,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    deleted_at      TIMESTAMPTZ,
    CHECK (
        (pricing_model = 'standard' AND amount IS NOT NULL
            AND minimum_amount IS NULL AND maximum_amount IS NULL)
        OR (pricing_model = 'pay_what_you_want'
            AND minimum_amount IS NOT NULL AND maximum_amount IS NOT NULL)
    )
);

CREATE UNIQUE INDEX prices_one_default
    ON prices (product_id) WHERE is_default AND deleted_at IS NULL;
CREATE INDEX prices_listing
    ON prices (organization_id, environment, created_at) WHERE deleted_at IS NULL;
