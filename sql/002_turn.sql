-- 002_turn: coturn's own tables (read by coturn from this same file) and turnpike's per-room TURN credentials.
-- coturn names its columns in every query, so stricter constraints are safe; they keep a bad row from crashing
-- coturn 4.6.1 (a NULL hmackey is a NULL dereference there). Revocation is done by triggers, so it also holds
-- when a room row is deleted by hand.

-- If coturn opened the file before turnpiked, it has created lax versions of its tables (no NOT NULL, no key
-- check). Make sure they exist, then rebuild turnusers_lt and turn_secret strictly, keeping only valid rows; the
-- other tables of coturn's schema need no constraints. Renaming a table inside the file is safe for coturn, which
-- prepares its statements per query (it is renaming the file that coturn does not survive).
CREATE TABLE IF NOT EXISTS turnusers_lt (realm varchar(127) DEFAULT '', name varchar(512), hmackey char(128),
                                         PRIMARY KEY (realm, name));
CREATE TABLE IF NOT EXISTS turn_secret (realm varchar(127) DEFAULT '', value varchar(256),
                                        PRIMARY KEY (realm, value));

CREATE TABLE turnpike_strict_turnusers_lt (
  realm varchar(127) NOT NULL DEFAULT '',
  name varchar(512) NOT NULL CHECK (length(name) > 0),
  hmackey char(128) NOT NULL CHECK (length(hmackey) = 32 AND hmackey NOT GLOB '*[^0-9a-f]*'),
  PRIMARY KEY (realm, name)
);
INSERT OR IGNORE INTO turnpike_strict_turnusers_lt (realm, name, hmackey)
  SELECT coalesce(realm, ''), name, lower(hmackey) FROM turnusers_lt
  WHERE length(name) > 0 AND length(hmackey) = 32 AND lower(hmackey) NOT GLOB '*[^0-9a-f]*';
DROP TABLE turnusers_lt;
ALTER TABLE turnpike_strict_turnusers_lt RENAME TO turnusers_lt;

CREATE TABLE turnpike_strict_turn_secret (
  realm varchar(127) NOT NULL DEFAULT '',
  value varchar(256) NOT NULL CHECK (length(value) > 0),
  PRIMARY KEY (realm, value)
);
INSERT OR IGNORE INTO turnpike_strict_turn_secret (realm, value)
  SELECT coalesce(realm, ''), value FROM turn_secret WHERE length(value) > 0;
DROP TABLE turn_secret;
ALTER TABLE turnpike_strict_turn_secret RENAME TO turn_secret;

-- The rest of coturn's schema (turndb/schema.sql), so coturn finds every table it asks for.
CREATE TABLE IF NOT EXISTS allowed_peer_ip (
  realm varchar(127) NOT NULL DEFAULT '',
  ip_range varchar(256) NOT NULL,
  PRIMARY KEY (realm, ip_range)
);
CREATE TABLE IF NOT EXISTS denied_peer_ip (
  realm varchar(127) NOT NULL DEFAULT '',
  ip_range varchar(256) NOT NULL,
  PRIMARY KEY (realm, ip_range)
);
CREATE TABLE IF NOT EXISTS turn_origin_to_realm (
  origin varchar(127) NOT NULL,
  realm varchar(127) NOT NULL,
  PRIMARY KEY (origin)
);
CREATE TABLE IF NOT EXISTS turn_realm_option (
  realm varchar(127) NOT NULL DEFAULT '',
  opt varchar(32) NOT NULL,
  value varchar(128) NOT NULL,
  PRIMARY KEY (realm, opt)
);
CREATE TABLE IF NOT EXISTS oauth_key (
  kid varchar(128) NOT NULL,
  ikm_key varchar(256) NOT NULL,
  timestamp bigint NOT NULL DEFAULT 0,
  lifetime integer NOT NULL DEFAULT 0,
  as_rs_alg varchar(64) NOT NULL DEFAULT '',
  realm varchar(127) NOT NULL DEFAULT '',
  PRIMARY KEY (kid)
);
CREATE TABLE IF NOT EXISTS admin_user (
  name varchar(32) NOT NULL,
  realm varchar(127) NOT NULL,
  password varchar(127) NOT NULL,
  PRIMARY KEY (name)
);

-- One row per credential handed to a device of a room. slot 1 = the room's client1, 2 = client2.
-- long-term mode: `username` is also a turnusers_lt name; rest mode: the room's secret is in turn_room_secrets.
CREATE TABLE turn_credentials (
  username TEXT NOT NULL PRIMARY KEY,
  roomid TEXT NOT NULL,
  slot INTEGER NOT NULL CHECK (slot IN (1, 2)),
  realm TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('long-term', 'rest')),
  credential TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL
);
CREATE INDEX turn_credentials_room ON turn_credentials(roomid, slot, expires_ms);
CREATE INDEX turn_credentials_expiry ON turn_credentials(expires_ms);

-- rest mode: one secret per room, mirrored into coturn's turn_secret.
CREATE TABLE turn_room_secrets (
  roomid TEXT NOT NULL PRIMARY KEY,
  realm TEXT NOT NULL,
  secret TEXT NOT NULL CHECK (length(secret) > 0)
);

-- Live relay sessions of revoked credentials still have to be ended through coturn's CLI; this queue survives
-- restarts of turnpiked. `pattern` is a room id (psp) or a username (ps).
CREATE TABLE turn_pending_kills (
  pattern TEXT NOT NULL PRIMARY KEY,
  exact INTEGER NOT NULL CHECK (exact IN (0, 1)),
  reason TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
);

CREATE TRIGGER rooms_revoke_turn AFTER DELETE ON rooms
BEGIN
  INSERT OR IGNORE INTO turn_pending_kills (pattern, exact, reason, created_ms)
    SELECT OLD.roomid, 0, 'room_ended', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
    WHERE EXISTS (SELECT 1 FROM turn_credentials WHERE roomid = OLD.roomid);
  DELETE FROM turn_credentials WHERE roomid = OLD.roomid;
  DELETE FROM turn_room_secrets WHERE roomid = OLD.roomid;
END;

CREATE TRIGGER turn_credentials_revoke AFTER DELETE ON turn_credentials
WHEN OLD.mode = 'long-term'
BEGIN
  DELETE FROM turnusers_lt WHERE realm = OLD.realm AND name = OLD.username;
END;

CREATE TRIGGER turn_room_secrets_revoke AFTER DELETE ON turn_room_secrets
BEGIN
  DELETE FROM turn_secret WHERE realm = OLD.realm AND value = OLD.secret;
END;
