"""Takes a conf and returns it as JSON text in the task's XCom, so tests can read back what arrived."""
import json
from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator


def echo_conf(**context):
    conf = context["dag_run"].conf or {}
    print("received conf:", conf)
    return json.dumps(conf)


with DAG(
    dag_id="airkick_conf",
    start_date=datetime(2020, 1, 1),
    schedule=None,
    catchup=False,
    tags=["airkick"],
) as dag:
    PythonOperator(task_id="echo_conf", python_callable=echo_conf)
