-- Writes that cannot be lost or undone.

-- Every write to a session is made against the version it read and counts it up, so two
-- writers that read the same session cannot both succeed: the second reads again and retries
-- instead of silently undoing the first.
ALTER TABLE checkout_sessions ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

-- A delivery attempt is recorded before its request is sent, and finished once its answer is
-- known: a node killed in between leaves an attempt that is plainly unfinished, so the log
-- shows every request an endpoint may have seen.
ALTER TABLE webhook_attempts ADD COLUMN finished_at TIMESTAMPTZ;
UPDATE webhook_attempts SET finished_at = attempted_at;
