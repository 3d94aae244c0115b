-- 004_row_counts: row counts of the tables that can grow to millions (rooms, the kill queue), kept by triggers
-- in the same transactions as the rows, so /health and /metrics read one row instead of counting them all.
-- No statement uses INSERT OR REPLACE on these tables (a REPLACE deletes without firing delete triggers).
CREATE TABLE turnpike_row_counts (
  name TEXT NOT NULL PRIMARY KEY,
  value INTEGER NOT NULL CHECK (value >= 0)
) WITHOUT ROWID;
INSERT INTO turnpike_row_counts (name, value) VALUES
  ('rooms', (SELECT count(*) FROM rooms)),
  ('turn_pending_kills', (SELECT count(*) FROM turn_pending_kills));

CREATE TRIGGER rooms_count_insert AFTER INSERT ON rooms
BEGIN
  UPDATE turnpike_row_counts SET value = value + 1 WHERE name = 'rooms';
END;
CREATE TRIGGER rooms_count_delete AFTER DELETE ON rooms
BEGIN
  UPDATE turnpike_row_counts SET value = value - 1 WHERE name = 'rooms';
END;
CREATE TRIGGER turn_pending_kills_count_insert AFTER INSERT ON turn_pending_kills
BEGIN
  UPDATE turnpike_row_counts SET value = value + 1 WHERE name = 'turn_pending_kills';
END;
CREATE TRIGGER turn_pending_kills_count_delete AFTER DELETE ON turn_pending_kills
BEGIN
  UPDATE turnpike_row_counts SET value = value - 1 WHERE name = 'turn_pending_kills';
END;
