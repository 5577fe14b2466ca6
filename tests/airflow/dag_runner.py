"""Run one DAG with `dag.test()` in this process; print its final state as JSON.

Started as a subprocess by the tests, with the Airflow home and the election paths in its
environment, because Airflow reads its configuration once, at import."""

from __future__ import annotations

import json
import sys

from airflow.dag_processing.dagbag import DagBag


def main(dags_folder: str, dag_id: str, conf: str) -> int:
    bag = DagBag(dag_folder=dags_folder)
    if bag.import_errors:
        print(json.dumps({"import_errors": {k: str(v) for k, v in bag.import_errors.items()}}))
        return 1
    dag = bag.get_dag(dag_id)
    assert dag is not None, f"no DAG {dag_id}"
    run = dag.test(run_conf=json.loads(conf) if conf else None)
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    print("DAG-RESULT " + json.dumps({"state": str(run.state), "tasks": states}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""))
