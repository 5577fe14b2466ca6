"""Everything an election-night task imports, imported once, by the scheduler's forkserver.

The local Airflow starts the LocalExecutor's workers from a forkserver that preloads this module
(`local_airflow`: `[scheduler] mp_start_method = forkserver`, `mp_forkserver_preload`), and every task
process is forked from a worker. So a task starts with Great Expectations, DuckDB, pandas and the
pipeline already loaded instead of importing them: about 5-7 s of the 8-10 s a 1,000-station file
took from its task's start to its publication on this 2-core machine (docs/benchmarks.md). Each task
still builds its own GX context and validates every file; only the import is shared.
"""

from __future__ import annotations

import pipelines.orchestration.dag_tasks  # noqa: F401  (imported for its imports)
from pipelines.gate.gx_runtime import import_gx

import_gx()
