-- An attempt caisse has ended (canceled when the customer chose another method or the session
-- was paid another way, failed, or expired with its session) may still be payable at its
-- provider until the provider confirms it ended: such a payment keeps a next_check_at, and the
-- reconciler ends it at the provider and reads it until it does, so money that came first is
-- settled, never dropped. next_check_at is null once nothing is left to read.
DROP INDEX payments_to_check;
CREATE INDEX payments_to_check ON payments (next_check_at) WHERE next_check_at IS NOT NULL;
