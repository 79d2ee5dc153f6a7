-- Provider accounts: the credentials an organization gives caisse to take payments through a
-- provider, one account per organization, environment and provider. The credentials are sealed
-- with the operator's master key (v1:<base64>), bound to the row's organization, environment
-- and provider; hints are what a merchant may see of them (JSON: field → "…" and the last
-- characters, or a setting's value). account_id is in the URL the provider's webhooks reach, so
-- replacing the credentials keeps it.

CREATE TABLE provider_accounts (
    account_id      UUID PRIMARY KEY NOT NULL,
    organization_id UUID NOT NULL REFERENCES organizations (id),
    environment     TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    provider        TEXT NOT NULL,
    credentials     TEXT NOT NULL,
    hints           JSONB NOT NULL,
    enabled         BOOLEAN NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX provider_accounts_owner
    ON provider_accounts (organization_id, environment, provider);
