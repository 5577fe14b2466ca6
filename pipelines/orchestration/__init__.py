"""What the Airflow DAG tasks call, the historical reload and the local Airflow home."""
