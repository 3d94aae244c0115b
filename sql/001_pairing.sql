-- 001_pairing: pending join codes and the rooms created from them (pairing REST API).
-- Times are Unix epoch milliseconds. A pending is live while exp_ms > now.

CREATE TABLE pendings (
  joinid TEXT NOT NULL PRIMARY KEY,
  client1 TEXT NOT NULL,
  client2 TEXT,           -- set by accept
  roomid TEXT,            -- the room created by accept for this join code; check returns exactly this one
  exp_ms INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  CHECK ((client2 IS NULL) = (roomid IS NULL))
);
CREATE INDEX pendings_exp_ms ON pendings(exp_ms);
CREATE INDEX pendings_client1 ON pendings(client1);
CREATE INDEX pendings_client2 ON pendings(client2);

CREATE TABLE rooms (
  roomid TEXT NOT NULL PRIMARY KEY CHECK (length(roomid) = 48),
  client1 TEXT NOT NULL,
  client2 TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  last_active_ms INTEGER NOT NULL
);
CREATE INDEX rooms_client1 ON rooms(client1);
CREATE INDEX rooms_client2 ON rooms(client2);
CREATE INDEX rooms_last_active_ms ON rooms(last_active_ms);
