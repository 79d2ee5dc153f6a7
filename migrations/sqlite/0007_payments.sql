-- Payments: every attempt to pay a session with one provider, kept for good. Its id is its
-- reference at the provider, and its amount and currency are frozen when it starts.

CREATE TABLE payments (
    payment_id          BLOB PRIMARY KEY NOT NULL,
    checkout_session_id BLOB NOT NULL REFERENCES checkout_sessions (checkout_session_id),
    organization_id     BLOB NOT NULL,
    environment         TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    provider            TEXT NOT NULL,
    status              TEXT NOT NULL
        CHECK (status IN ('pending', 'succeeded', 'failed', 'canceled', 'expired')),
    amount              INTEGER NOT NULL CHECK (amount >= 0),
    currency_code       TEXT NOT NULL,
    provider_reference  TEXT,
    failure_code        TEXT,
    failure_message     TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX payments_of_session ON payments (checkout_session_id, created_at);
-- The same payment at a provider is recorded once.
CREATE UNIQUE INDEX payments_provider_reference ON payments (provider, provider_reference)
    WHERE provider_reference IS NOT NULL;
