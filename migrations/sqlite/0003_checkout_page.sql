-- Coupon attempts on the checkout page are rate-limited per session, across nodes.
ALTER TABLE checkout_sessions ADD COLUMN coupon_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE checkout_sessions ADD COLUMN coupon_window_started_at TEXT;

-- Secrets the server makes for itself on first start (the CSRF key), shared by every node.
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY NOT NULL,
    value      BLOB NOT NULL,
    created_at TEXT NOT NULL
);
