-- 005_opaque_turn_usernames: TURN usernames no longer carry the room id (the room's bearer capability, which
-- travelled in clear in STUN and showed in coturn's logs and CLI); they are random ids that only turn_credentials
-- maps to (room, slot). Revoking a room therefore names its usernames exactly (`ps <username>`, one kill each)
-- instead of a `psp <roomid>` pattern.
DROP TRIGGER rooms_revoke_turn;
CREATE TRIGGER rooms_revoke_turn AFTER DELETE ON rooms
BEGIN
  INSERT OR IGNORE INTO turn_pending_kills (pattern, exact, reason, created_ms)
    SELECT username, 1, 'room_ended', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
    FROM turn_credentials WHERE roomid = OLD.roomid;
  DELETE FROM turn_credentials WHERE roomid = OLD.roomid;
  DELETE FROM turn_room_secrets WHERE roomid = OLD.roomid;
END;

-- Credentials issued in the old format name their room: revoke them all now. Their live sessions are queued for
-- ending (exact usernames), their turnusers_lt rows go with them (trigger turn_credentials_revoke), and the rooms'
-- REST secrets are replaced on next use (so old `<expiry>:<roomid>.<slot>` usernames no longer verify). Clients
-- get fresh, opaque credentials on their next POST /api/rooms/turn or join_room.
INSERT OR IGNORE INTO turn_pending_kills (pattern, exact, reason, created_ms)
  SELECT username, 1, 'username_format', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
  FROM turn_credentials;
DELETE FROM turn_credentials;
DELETE FROM turn_room_secrets;
