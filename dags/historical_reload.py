"""Historical reload: rebuild one election deterministically into its own reload warehouse."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Param, dag, get_current_context, task

# No database, file or GX access at parse time: everything below runs inside the tasks.
WRITER_POOL = "warehouse_writer"

DOC = """
### Historical reload

Rebuilds one election from scratch into a **separate reload warehouse**
`$ELECTIONS_WAREHOUSE/data/reloads/<election_id>[--as-of-<stamp>]/` and publishes its provisional
seat table there. The main warehouse's log is never changed.

Parameters:
- **election_id**: for example `kz-mazhilis-2004`.
- **source**: `archive` replays the main warehouse's raw archive (every file received, in arrival
  order, with the original receipt times); `history` loads the shipped historical files (official
  national totals, synthetic precincts).
- **as_of** (archive only, optional): an ISO timestamp (UTC unless it has an offset); only files
  received by then are replayed - "the results as they stood at 23:00".

The reload is built in a temporary folder beside its place and swapped in whole, so readers see
the previous reload or the new one, never a half-built one. The task log lists the seat table and
the SHA-256 of every projection: two reloads of the same election and source give the same
checksums for every table (a replay publishes at the original run's times, the history at a fixed
one); only the log's `recorded_at` and hash chain differ.

Bad parameters or data fail the run at once (no retry); a busy writer is retried.
"""


@dag(
    dag_id="historical_reload",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=DOC,
    tags=["elections", "reload"],
    default_args={"owner": "results-desk", "retries": 2, "retry_delay": timedelta(seconds=10)},
    params={
        "election_id": Param(
            type="string", minLength=1, title="Election", description="for example kz-mazhilis-2004"
        ),
        "source": Param(
            "archive",
            type="string",
            enum=["archive", "history"],
            title="Source",
            description="archive: the raw files received; history: the shipped historical files",
        ),
        "as_of": Param(
            None,
            type=["null", "string"],
            title="As of",
            description="archive only: replay what had arrived by this ISO timestamp (UTC)",
        ),
    },
)
def historical_reload() -> None:
    @task
    def check_request() -> dict[str, Any]:
        """Refuse bad parameters before taking the writer slot."""
        from pipelines.orchestration.dag_tasks import data_errors_fail_the_task
        from pipelines.orchestration.historical_reload import parse_request

        params = get_current_context()["params"]
        with data_errors_fail_the_task():
            request = parse_request(params["election_id"], params["source"], params.get("as_of"))
        return {
            "election_id": request.election_id,
            "source": request.source,
            "as_of": request.as_of.isoformat() if request.as_of else None,
        }

    @task(pool=WRITER_POOL)
    def rebuild_and_publish(request: dict[str, Any]) -> dict[str, Any]:
        from pipelines.orchestration.dag_tasks import data_errors_fail_the_task, reload_election

        with data_errors_fail_the_task():
            return reload_election(request["election_id"], request["source"], request["as_of"])

    rebuild_and_publish(check_request())  # type: ignore[arg-type]  # an XComArg stands in for the dict


historical_reload()
