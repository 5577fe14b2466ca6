"""Play a recorded election night into an inbox in waves, running the election_night DAG with
`dag.test()` after each wave, in this one process (so GX and Airflow load once)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from airflow.dag_processing.dagbag import DagBag

from pipelines.synthetic.simulator import FILES_DIR, READY_MARKER, read_manifest


def main(dags_folder: str, recording: str, inbox: str, wave_ends: str) -> int:
    bag = DagBag(dag_folder=dags_folder)
    dag = bag.get_dag("election_night")
    assert dag is not None and not bag.import_errors, bag.import_errors
    deliveries = read_manifest(Path(recording))
    target = Path(inbox)
    target.mkdir(parents=True, exist_ok=True)
    states = []
    start = 0
    for end in [int(x) for x in wave_ends.split(",")]:
        wave = [d for d in deliveries if start <= d.offset_seconds < end]
        start = end
        for delivery in wave:
            partial = target / f".{delivery.name}.partial"
            partial.write_bytes((Path(recording) / FILES_DIR / delivery.name).read_bytes())
            os.replace(partial, target / delivery.name)
        (target / READY_MARKER).touch()
        run = dag.test()
        states.append({"files": len(wave), "state": str(run.state)})
    print("NIGHT-RESULT " + json.dumps(states))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
