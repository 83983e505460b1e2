"""Fails on purpose, so alerting and wait-for-failure paths have something real to see.
A run with conf {"succeed": true} succeeds instead, so recovery can be seen too."""
from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator


def fail(dag_run=None, **_):
    if dag_run is not None and (dag_run.conf or {}).get("succeed") is True:
        return "succeeded on request"
    raise RuntimeError("airkick_fail fails on purpose")


with DAG(
    dag_id="airkick_fail",
    start_date=datetime(2020, 1, 1),
    schedule=None,
    catchup=False,
    default_args={"retries": 0},
    tags=["airkick"],
) as dag:
    PythonOperator(task_id="fail", python_callable=fail)
