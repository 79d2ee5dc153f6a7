-- Discount coupons: the same table as on SQLite, in PostgreSQL's own types. A percentage is kept
-- in basis points (hundredths of a percent: 1250 is 12.5 %), so no float is stored.
--
-- `current_uses` is written only by the completion of a session, atomically and never past the
-- limit: `UPDATE discount_coupons SET current_uses = current_uses + 1 WHERE coupon_id = $1 AND
-- (max_uses IS NULL OR current_uses < max_uses)`. An update through the API never writes it.
--
-- DELETE keeps the row (inactive, `deleted_at` set) for the sessions that used it; the code is
-- unique only among coupons that are not deleted, so a deleted code can be made again.

CREATE TABLE discount_coupons (
    coupon_id             UUID PRIMARY KEY,
    organization_id       UUID NOT NULL REFERENCES organizations (id),
    environment           TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    code                  TEXT NOT NULL CHECK (code = upper(code) AND length(code) BETWEEN 1 AND 40),
    discount_type         TEXT NOT NULL CHECK (discount_type IN ('percentage', 'fixed')),
    discount_basis_points BIGINT CHECK (discount_basis_points BETWEEN 1 AND 10000),
    discount_fixed_amount BIGINT CHECK (discount_fixed_amount > 0),
    currency_code         TEXT,
    max_uses              BIGINT CHECK (max_uses >= 1),
    current_uses          BIGINT NOT NULL DEFAULT 0 CHECK (current_uses >= 0),
    max_quantity_per_use  BIGINT CHECK (max_quantity_per_use >= 1),
    valid_from            TIMESTAMPTZ,
    expires_at            TIMESTAMPTZ,
    is_active             BOOLEAN NOT NULL DEFAULT TRUE,
    description           TEXT,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    deleted_at            TIMESTAMPTZ,
    CHECK (
        (discount_type = 'percentage' AND discount_basis_points IS NOT NULL
            AND discount_fixed_amount IS NULL)
        OR (discount_type = 'fixed' AND discount_fixed_amount IS NOT NULL
            AND currency_code IS NOT NULL AND discount_basis_points IS NULL)
    )
);

CREATE UNIQUE INDEX discount_coupons_code
    ON discount_coupons (organization_id, environment, code) WHERE deleted_at IS NULL;
CREATE INDEX discount_coupons_listing
    ON discount_coupons (organization_id, environment, created_at) WHERE deleted_at IS NULL;
