-- Payment links: shared once, paid by many. Each customer who presses "continue" on the link's
-- page gets a checkout session of their own (payment_link_id set). An instant link names its
-- amount; a product link names a price or a product of the catalog. DELETE keeps the row
-- (deleted_at set): the sessions opened from it name it, and its page says it is gone.

CREATE TABLE payment_links (
    link_id             BLOB PRIMARY KEY NOT NULL,
    organization_id     BLOB NOT NULL REFERENCES organizations (id),
    environment         TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    link_type           TEXT NOT NULL CHECK (link_type IN ('instant', 'product')),
    title               TEXT,
    public_description  TEXT,
    private_description TEXT,
    amount              INTEGER CHECK (amount > 0),
    currency_code       TEXT,
    product_id          BLOB,
    price_id            BLOB,
    quantity            INTEGER NOT NULL CHECK (quantity >= 1),
    allow_quantity      BOOLEAN NOT NULL,
    allow_coupon_code   BOOLEAN NOT NULL,
    allowed_providers   TEXT,
    success_url         TEXT,
    cancel_url          TEXT,
    expires_at          TEXT,
    is_active           BOOLEAN NOT NULL DEFAULT TRUE,
    metadata            TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    deleted_at          TEXT,
    CHECK (
        (link_type = 'instant' AND title IS NOT NULL AND amount IS NOT NULL
            AND currency_code IS NOT NULL)
        OR (link_type = 'product' AND (price_id IS NOT NULL OR product_id IS NOT NULL))
    )
);

CREATE INDEX payment_links_listing
    ON payment_links (organization_id, environment, created_at) WHERE deleted_at IS NULL;
