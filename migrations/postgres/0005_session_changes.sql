-- Every change to a checkout session is announced on the channel `caisse_checkout_sessions`,
-- with the session's id, when its transaction commits. Each caisse node listens and forgets its
-- cached copy, so nodes can keep sessions in memory and still never show one another an old
-- state for longer than a notification takes. A trigger rather than the application's own
-- NOTIFY: it also covers changes made by hand or by another program, and it is atomic with the
-- change. New rows need no notice (nothing caches a session before it exists).

CREATE FUNCTION caisse_checkout_session_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('caisse_checkout_sessions', OLD.checkout_session_id::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER checkout_sessions_changed
    AFTER UPDATE OR DELETE ON checkout_sessions
    FOR EACH ROW EXECUTE FUNCTION caisse_checkout_session_changed();
