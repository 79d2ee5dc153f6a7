-- An endpoint's health. failing_since is when its current run of failed attempts began (null
-- after a success); an endpoint still failing a day later is disabled (disabled_at): its
-- pending deliveries fail, no new ones are made, and the API says so until it is enabled again.
ALTER TABLE webhook_endpoints ADD COLUMN failing_since TEXT;
ALTER TABLE webhook_endpoints ADD COLUMN disabled_at TEXT;

-- Deliveries in flight per endpoint, which the claim counts so that one endpoint never holds
-- more than a few of a node's attempts.
CREATE INDEX webhook_deliveries_in_flight ON webhook_deliveries (endpoint_id, locked_until)
    WHERE status = 'pending';
