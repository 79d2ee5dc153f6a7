-- On PostgreSQL, this version adds the trigger that announces every change to a session to the
-- other nodes. SQLite serves one node, which makes every change itself: there is nothing to
-- announce, and this version only keeps the two schemas' numbers in step.
SELECT 1;
