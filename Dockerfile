# The elections pipeline on the official Airflow image, installed from the project's own uv.lock.
#
# The base tag names the apache-airflow version pinned in uv.lock and the project's Python
# (tests/unit/test_docker_compose.py checks both). The image brings what the lock does not hold and a
# Celery deployment needs (the Celery, Redis, PostgreSQL and FAB providers); the lock brings the rest.
# Build: docker compose build   (see docs/deployment.md)

# uv pinned like the Makefile's UV_VERSION, used only to turn uv.lock into a requirements list.
FROM ghcr.io/astral-sh/uv:0.13.8 AS uv

FROM apache/airflow:3.3.2-python3.11

USER root
RUN mkdir -p /opt/elections /var/lib/elections/inbox /var/lib/elections/warehouse \
    && chown -R airflow:0 /opt/elections /var/lib/elections \
    && chmod -R g+rwX /var/lib/elections
COPY --from=uv /uv /usr/local/lib/elections-uv/uv
USER airflow

WORKDIR /opt/elections

# Dependencies first, in their own layer, so that code changes do not reinstall them.
# `uv export --frozen` reads the lock as it is (no re-resolution); the grep stops the build when the lock
# and the image disagree about Airflow, instead of letting the installer swap Airflow underneath the image;
# `pip check` stops it when a locked version conflicts with a provider the image ships.
COPY --chown=airflow:0 pyproject.toml uv.lock README.md ./
RUN /usr/local/lib/elections-uv/uv export --frozen --no-dev --no-hashes --no-emit-project \
        --format requirements.txt --output-file /tmp/requirements.lock.txt \
    && grep -qxF "apache-airflow==${AIRFLOW_VERSION}" /tmp/requirements.lock.txt \
    && uv pip install --no-cache -r /tmp/requirements.lock.txt \
    && python -m pip check \
    && rm /tmp/requirements.lock.txt

# The code, editable so that pipelines/ finds schemas/ and warehouse/migrations/ beside it.
COPY --chown=airflow:0 . ./
RUN uv pip install --no-cache --no-deps --editable . \
    && python -c "import pipelines, duckdb, great_expectations; print('elections image ok')"

ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/elections/dags \
    ELECTIONS_INBOX=/var/lib/elections/inbox \
    ELECTIONS_WAREHOUSE=/var/lib/elections/warehouse
