"""Sleeps for conf["seconds"] (default 30), for timeouts and runs that are still going."""
import time
from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator


def nap(**context):
    seconds = float((context["dag_run"].conf or {}).get("seconds", 30))
    time.sleep(seconds)
    return seconds


with DAG(
    dag_id="airkick_slow",
    start_date=datetime(2020, 1, 1),
    schedule=None,
    catchup=False,
    tags=["airkick"],
) as dag:
    PythonOperator(task_id="nap", python_callable=nap)
