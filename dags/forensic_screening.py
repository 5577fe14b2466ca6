"""### Forensic screening

Runs whenever `election_night` publishes (an event on the asset `election_publications`), in a DAG
of its own so that no election-night run, and so no seat table, ever waits for a screen (about 6 s at
100,000 polling stations).

**screen_newest** (not in the writer pool: it reads the readers' snapshot) writes the forensic report,
screening and not proof, of each election's newest publication that has none yet to
`data/forensics/<publication_id>/` (docs/forensics.md). It finds them in the snapshot, not in the
event, so a run that failed or was missed is caught up by the next one. When the night publishes
faster than it screens, the older unscreened publications are skipped on purpose:
`elections forensics --publication ID` screens any of them. A failed screen fails the run and leaves
the publication as it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import Asset, dag, task

# Declared the same in election_night.py, whose ingest_and_publish emits it when it publishes.
publications = Asset(name="election_publications", uri="elections://publications")


@dag(
    dag_id="forensic_screening",
    schedule=[publications],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["elections", "forensics"],
    # No retry: the next publication's run screens whatever is then newest.
    default_args={"owner": "results-desk", "retries": 0},
)
def forensic_screening() -> None:
    @task
    def screen_newest() -> dict[str, Any]:
        from pipelines.orchestration.dag_tasks import screen_newest_publications, warehouse_dir

        return screen_newest_publications(warehouse=warehouse_dir())

    screen_newest()


forensic_screening()
