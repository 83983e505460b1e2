"""Fails on purpose, so alerting and wait-for-failure paths have something real to see."""
from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator


def fail(**_):
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
