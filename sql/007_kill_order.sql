-- 007_kill_order: coturn session kills are taken fewest attempts first, then oldest, so that a kill that keeps
-- failing (a username whose listing coturn will not confirm) goes behind the others instead of holding up every
-- other room's revocation.
DROP INDEX turn_pending_kills_created;
CREATE INDEX turn_pending_kills_order ON turn_pending_kills(attempts, created_ms, pattern);
