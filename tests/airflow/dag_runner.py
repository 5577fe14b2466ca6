"""Run one DAG with `dag.test()` in this process; print its final state as JSON.

Started as a subprocess by the tests, with the Airflow home and the election paths in its
environment, because Airflow reads its configuration once, at import."""

from __future__ import annotations

import json
import sys

from airflow.dag_processing.dagbag import DagBag
from airflow.models.asset import AssetEvent, AssetModel
from airflow.utils.session import create_session
from sqlalchemy import select


def main(dags_folder: str, dag_id: str, conf: str) -> int:
    bag = DagBag(dag_folder=dags_folder)
    if bag.import_errors:
        print(json.dumps({"import_errors": {k: str(v) for k, v in bag.import_errors.items()}}))
        return 1
    dag = bag.get_dag(dag_id)
    assert dag is not None, f"no DAG {dag_id}"
    run = dag.test(run_conf=json.loads(conf) if conf else None)
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    with create_session() as session:
        emitted = session.execute(
            select(AssetModel.name, AssetEvent.extra)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetEvent.source_dag_id == dag_id, AssetEvent.source_run_id == run.run_id)
            .order_by(AssetEvent.id)
        ).all()
    events = [[name, extra] for name, extra in emitted]
    print("DAG-RESULT " + json.dumps({"state": str(run.state), "tasks": states, "asset_events": events}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""))
