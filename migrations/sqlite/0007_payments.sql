-- Payments: every attempt to pay a session with one provider, kept for good. Its id is its
-- reference at the provider, and its amount and currency are frozen when it starts.

CREATE TABLE payments (
    payment_id          BLOB PRIMARY KEY NOT NULL,
    checkout_session_id BLOB NOT NULL REFERENCES checkout_sessions (checkout_session_id),
    organization_id     BLOB NOT NULL,
    environment         TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    provider            TEXT NOT NULL,
    -- The merchant's account at the provider it goes through; null for the test sandbox and
    -- for PI-SPI codes scanned from the page, which call no provider.
    account_id          BLOB,
    status              TEXT NOT NULL
        CHECK (status IN ('pending', 'succeeded', 'failed', 'canceled', 'expired')),
    amount              INTEGER NOT NULL CHECK (amount >= 0),
    currency_code       TEXT NOT NULL,
    provider_reference  TEXT,
    failure_code        TEXT,
    failure_message     TEXT,
    -- Where the provider sends the customer (Wave's launch URL), to send them again.
    redirect_url        TEXT,
    -- The provider's own deadline for a pending payment: until then the session is not
    -- expired under it.
    expires_at          TEXT,
    -- When the reconciler next reads a pending payment's status, and how often it has.
    next_check_at       TEXT,
    checks              INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX payments_of_session ON payments (checkout_session_id, created_at);
-- The same payment at a provider is recorded once.
CREATE UNIQUE INDEX payments_provider_reference ON payments (provider, provider_reference)
    WHERE provider_reference IS NOT NULL;
-- At most one attempt is under way per session: the order is frozen while it is.
CREATE UNIQUE INDEX payments_one_pending ON payments (checkout_session_id)
    WHERE status = 'pending';
CREATE INDEX payments_to_check ON payments (next_check_at) WHERE status = 'pending';

-- The payment under way on a session, if any: the page and the API freeze the order while it
-- is, from the session itself (which every page view already reads).
ALTER TABLE checkout_sessions ADD COLUMN pending_payment_id BLOB;
