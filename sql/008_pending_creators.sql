-- 008_pending_creators: who created each join code, so the cap on live codes per client address
-- (limits.max_pending_codes_per_address) is counted from the table and holds across restarts.
-- creator is the address the limits key on (IPv6 aggregated to limits.ipv6_prefix_length); codes created
-- before this migration have none and do not count.
ALTER TABLE pendings ADD COLUMN creator TEXT;
CREATE INDEX pendings_creator ON pendings(creator, exp_ms) WHERE creator IS NOT NULL;
