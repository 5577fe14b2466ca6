"""Certify results: publish the final seat table of an election once every precinct is in."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Asset, Param, dag, get_current_context, task

# No database, file or GX access at parse time: everything below runs inside the task.
WRITER_POOL = "warehouse_writer"
# Declared the same in election_night.py and forensic_screening.py: a certification is a publication,
# so its success starts the forensic_screening DAG, which screens it.
publications = Asset(name="election_publications", uri="elections://publications")

DOC = """
### Certify results

Publishes the **certified** seat table of one election in the main warehouse
(`$ELECTIONS_WAREHOUSE`), once: a certified result is never published twice.

Certification is refused while a declared precinct has neither reported nor been annulled; the
run then fails at once (no retry) and its log names the missing precincts. To certify anyway,
give an **override_reason** (and your name as **operator**; it defaults to the user who triggered
the run): the override is recorded as a `CertificationOverridden` event before the publication.

The task runs in the `warehouse_writer` pool (one slot: DuckDB has a single writer) and refreshes
the readers' snapshot afterwards, so `proj_publications` shows the certified publication. Its
success emits an event on the asset `election_publications`: the `forensic_screening` DAG then writes
the certified publication's forensic report.
"""


@dag(
    dag_id="certify_results",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=DOC,
    tags=["elections", "certification"],
    default_args={"owner": "results-desk", "retries": 2, "retry_delay": timedelta(seconds=10)},
    params={
        "election_id": Param(type="string", minLength=1, title="Election"),
        "override_reason": Param(
            None,
            type=["null", "string"],
            title="Override reason",
            description="certify although precincts are missing, and say why (recorded as an event)",
        ),
        "operator": Param(None, type=["null", "string"], title="Operator", description="who decides"),
    },
)
def certify_results() -> None:
    @task(pool=WRITER_POOL, outlets=[publications])
    def certify() -> dict[str, Any]:
        from pipelines.orchestration.dag_tasks import certify_election, data_errors_fail_the_task

        context = get_current_context()
        params = context["params"]
        operator = params.get("operator") or context["dag_run"].triggering_user_name
        with data_errors_fail_the_task():
            return certify_election(
                params["election_id"],
                override_reason=params.get("override_reason") or None,
                operator=operator,
            )

    certify()


certify_results()
