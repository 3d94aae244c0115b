-- 009_turn_owners: TURN credentials belong to an owner, which is a pairing room or one user of a Socket.IO
-- session (the session dialect). An owner's delete revokes its credentials and queues the kills of their live
-- relays, as a room's delete did; a room is an owner from its insert to its delete (triggers below). The
-- credential tables keep their column name `roomid`, which holds the owner id.
CREATE TABLE turn_owners (
  ownerid TEXT NOT NULL PRIMARY KEY CHECK (length(ownerid) = 48),
  kind TEXT NOT NULL CHECK (kind IN ('room', 'session_member')),
  created_ms INTEGER NOT NULL
);
CREATE INDEX turn_owners_kind ON turn_owners(kind);
INSERT INTO turn_owners (ownerid, kind, created_ms) SELECT roomid, 'room', created_ms FROM rooms;

DROP TRIGGER rooms_revoke_turn;
CREATE TRIGGER rooms_own_turn AFTER INSERT ON rooms
BEGIN
  INSERT INTO turn_owners (ownerid, kind, created_ms) VALUES (NEW.roomid, 'room', NEW.created_ms);
END;
CREATE TRIGGER rooms_release_turn AFTER DELETE ON rooms
BEGIN
  DELETE FROM turn_owners WHERE ownerid = OLD.roomid;
END;

-- The credential tables now refer to turn_owners: built anew, copied, the old ones dropped (DROP TABLE fires no
-- delete trigger, so coturn's rows stay), renamed.
CREATE TABLE turnpike_new_turn_credentials (
  username TEXT NOT NULL PRIMARY KEY,
  roomid TEXT NOT NULL REFERENCES turn_owners (ownerid),
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
  roomid TEXT NOT NULL PRIMARY KEY REFERENCES turn_owners (ownerid),
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

CREATE TABLE turnpike_new_turn_expired_credentials (
  username TEXT NOT NULL PRIMARY KEY,
  roomid TEXT NOT NULL REFERENCES turn_owners (ownerid),
  expired_ms INTEGER NOT NULL
);
INSERT INTO turnpike_new_turn_expired_credentials SELECT username, roomid, expired_ms FROM turn_expired_credentials;
DROP TABLE turn_expired_credentials;
ALTER TABLE turnpike_new_turn_expired_credentials RENAME TO turn_expired_credentials;
CREATE INDEX turn_expired_credentials_room ON turn_expired_credentials(roomid);

CREATE TRIGGER turn_owners_revoke AFTER DELETE ON turn_owners
BEGIN
  INSERT OR IGNORE INTO turn_pending_kills (pattern, exact, reason, created_ms)
    SELECT username, 1, CASE OLD.kind WHEN 'room' THEN 'room_ended' ELSE 'session_ended' END,
           CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
    FROM turn_credentials WHERE roomid = OLD.ownerid
    UNION ALL
    SELECT username, 1, CASE OLD.kind WHEN 'room' THEN 'room_ended' ELSE 'session_ended' END,
           CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
    FROM turn_expired_credentials WHERE roomid = OLD.ownerid;
  DELETE FROM turn_credentials WHERE roomid = OLD.ownerid;
  DELETE FROM turn_expired_credentials WHERE roomid = OLD.ownerid;
  DELETE FROM turn_room_secrets WHERE roomid = OLD.ownerid;
END;
