"""Whether an election's certification is in force at a log position: a ResultsCertified event not
followed by a CertificationRevoked one. Read from the log itself, never from a projection, so that
whatever decides from it (ingestion, publication, rule amendments) sees what the log says."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipelines.domain.events import CERTIFICATION_REVOKED, RESULTS_CERTIFIED
from pipelines.store.migrations import first_row
from pipelines.store.queries import query

# Any position past the head: "now".
_HEAD = 2**62


@dataclass(frozen=True)
class Certification:
    """The certification in force: its publication and where it stands in the log."""

    election_id: str
    publication_id: str
    position: int  # of the ResultsCertified event
    based_on_position: int

    def describe(self) -> str:
        """Why nothing may change the results now, in the words quarantine and refusals use."""
        return (
            f"election certified: {self.election_id} was certified in publication {self.publication_id} "
            f"(log position {self.position}); results can no longer change unless the certification "
            "is revoked (elections decertify)"
        )


def certification_in_force(
    conn: duckdb.DuckDBPyConnection, election_id: str, *, as_of: int | None = None
) -> Certification | None:
    """The election's certification in force at log position `as_of` (default: the head), or None
    when it was never certified by then or its last certification was revoked."""
    row = first_row(
        conn.execute(
            query("certification_in_force"),
            {
                "election": election_id,
                "certified": RESULTS_CERTIFIED,
                "revoked": CERTIFICATION_REVOKED,
                "as_of": _HEAD if as_of is None else as_of,
            },
        )
    )
    if row is None or row[0] != RESULTS_CERTIFIED:
        return None
    return Certification(election_id, str(row[2]), int(str(row[1])), int(str(row[3])))
