-- 006_credentials_follow_rooms: a TURN credential exists only for a live room, and an expired one keeps its
-- relays. turn_credentials and turn_room_secrets get a foreign key to rooms, so with foreign_keys on (turnpiked
-- sets it) no row can be written for a room that is gone, whatever the order of a DELETE, a sweep and a renewal
-- within one group commit; the stores also insert through a SELECT from rooms and report a room that is gone.
-- Expiry moves a credential to turn_expired_credentials (its coturn row goes, so coturn refuses new
-- allocations with it) instead of queueing a kill of its live relays: those end with the room, whose delete
-- queues a kill for every username it ever had, expired ones included.

-- Rebuilt below; it names turn_credentials, which cannot be renamed while a trigger refers to it.
DROP TRIGGER rooms_revoke_turn;

-- Rows that an earlier renewal left behind for a room already gone: revoke them now (coturn rows by the
-- triggers of 002) and end their live relays.
INSERT OR IGNORE INTO turn_pending_kills (pattern, exact, reason, created_ms)
  SELECT username, 1, 'room_ended', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
  FROM turn_credentials WHERE roomid NOT IN (SELECT roomid FROM rooms);
DELETE FROM turn_credentials WHERE roomid NOT IN (SELECT roomid FROM rooms);
DELETE FROM turn_room_secrets WHERE roomid NOT IN (SELECT roomid FROM rooms);

-- SQLite cannot add a foreign key to a table: build the new one, copy, drop the old one (DROP TABLE fires no
-- delete trigger, so coturn's rows stay), rename.
CREATE TABLE turnpike_new_turn_credentials (
  username TEXT NOT NULL PRIMARY KEY,
  roomid TEXT NOT NULL REFERENCES rooms (roomid),
  slot INTEGER NOT NULL CHECK (slot IN (1, 2)),
  realm TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('long-term', 'rest')),
  credential TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL
);
INSERT INTO turnpike_new_turn_credentials
  SELECT username, roomid, slot, realm, mode, credential, created_ms, expires_ms FROM turn_credentials;
DROP TABLE turn_credentials;
ALTER TABLE turnpike_new_turn_credentials RENAME TO turn_credentials;
CREATE INDEX turn_credentials_room ON turn_credentials(roomid, slot, expires_ms);
CREATE INDEX turn_credentials_expiry ON turn_credentials(expires_ms);
CREATE TRIGGER turn_credentials_revoke AFTER DELETE ON turn_credentials
WHEN OLD.mode = 'long-term'
BEGIN
  DELETE FROM turnusers_lt WHERE realm = OLD.realm AND name = OLD.username;
END;

CREATE TABLE turnpike_new_turn_room_secrets (
  roomid TEXT NOT NULL PRIMARY KEY REFERENCES rooms (roomid),
  realm TEXT NOT NULL,
  secret TEXT NOT NULL CHECK (length(secret) > 0)
);
INSERT INTO turnpike_new_turn_room_secrets SELECT roomid, realm, secret FROM turn_room_secrets;
DROP TABLE turn_room_secrets;
ALTER TABLE turnpike_new_turn_room_secrets RENAME TO turn_room_secrets;
CREATE TRIGGER turn_room_secrets_revoke AFTER DELETE ON turn_room_secrets
BEGIN
  DELETE FROM turn_secret WHERE realm = OLD.realm AND value = OLD.secret;
END;

-- Usernames whose credential expired while their room lives: coturn no longer knows them (no new allocation),
-- but relays allocated before the expiry go on until the room ends, which kills them by these names.
CREATE TABLE turn_expired_credentials (
  username TEXT NOT NULL PRIMARY KEY,
  roomid TEXT NOT NULL REFERENCES rooms (roomid),
  expired_ms INTEGER NOT NULL
);
CREATE INDEX turn_expired_credentials_room ON turn_expired_credentials(roomid);

CREATE TRIGGER rooms_revoke_turn AFTER DELETE ON rooms
BEGIN
  INSERT OR IGNORE INTO turn_pending_kills (pattern, exact, reason, created_ms)
    SELECT username, 1, 'room_ended', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
    FROM turn_credentials WHERE roomid = OLD.roomid
    UNION ALL
    SELECT username, 1, 'room_ended', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
    FROM turn_expired_credentials WHERE roomid = OLD.roomid;
  DELETE FROM turn_credentials WHERE roomid = OLD.roomid;
  DELETE FROM turn_expired_credentials WHERE roomid = OLD.roomid;
  DELETE FROM turn_room_secrets WHERE roomid = OLD.roomid;
END;

-- Kills already queued by the old expiry (reason 'credential_expired') stay queued: their credentials are gone
-- from turn_credentials, so nothing would end those relays with their rooms.
