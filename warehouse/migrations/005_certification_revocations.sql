-- Revoked certifications (CertificationRevoked events): which certified publication no longer stands,
-- why, and who decided. The revoked publication itself stays in proj_publications, unchanged.

CREATE TABLE proj_certification_revocations (
    position        BIGINT PRIMARY KEY,     -- of the CertificationRevoked event
    election_id     VARCHAR NOT NULL,
    publication_id  VARCHAR NOT NULL,       -- the certified publication revoked
    reason          VARCHAR NOT NULL,
    decided_by      VARCHAR NOT NULL,
    operator        VARCHAR NOT NULL,
    revoked_at      TIMESTAMP NOT NULL
);
