-- Rules are events: each election shows the rules in force at the log's head (from its declaration
-- or from the amendment that applies), and every RulesAmended event is listed with its reason.
-- Rows of a warehouse from before this migration get their rules at the next projection update.

ALTER TABLE proj_elections ADD COLUMN rules_profile_id VARCHAR;      -- profile_id of the rules in force
ALTER TABLE proj_elections ADD COLUMN rules_sha256 VARCHAR;          -- sha256 of their canonical JSON
ALTER TABLE proj_elections ADD COLUMN rules_set_at BIGINT;           -- position of the event carrying them
ALTER TABLE proj_elections ADD COLUMN rules_effective_from BIGINT;   -- position from which they apply

CREATE TABLE proj_rule_amendments (
    position            BIGINT PRIMARY KEY,     -- the RulesAmended event
    election_id         VARCHAR NOT NULL,
    effective_position  BIGINT NOT NULL,        -- from here on the new rules apply (>= position)
    rules_profile_id    VARCHAR NOT NULL,
    rules_sha256        VARCHAR NOT NULL,
    previous_sha256     VARCHAR NOT NULL,       -- the rules in force at the effective position before it
    reason              VARCHAR NOT NULL,
    decided_by          VARCHAR NOT NULL,
    amended_at          TIMESTAMP NOT NULL
);
