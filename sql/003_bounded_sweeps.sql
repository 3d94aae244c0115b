-- 003_bounded_sweeps: the kill queue is read oldest first in batches, so that order needs an index; expired
-- credentials are removed in batches by expiry time (turn_credentials_expiry already covers that).
CREATE INDEX turn_pending_kills_created ON turn_pending_kills(created_ms, pattern);
