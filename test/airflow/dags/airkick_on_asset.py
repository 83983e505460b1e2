"""Scheduled on an asset (Airflow 3) or dataset (Airflow 2.4+): runs when an event for
s3://airkick-assets/landing arrives, and returns the extras of the events that triggered it."""
import json
from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator

try:  # Airflow 3
    from airflow.sdk import Asset as DataAsset
except ImportError:  # Airflow 2
    from airflow.datasets import Dataset as DataAsset

LANDING = DataAsset("s3://airkick-assets/landing")


def echo_events(**context):
    events = context.get("triggering_asset_events") or context.get("triggering_dataset_events") or {}
    extras = [event.extra for queue in events.values() for event in queue]
    print("triggered by:", extras)
    return json.dumps(extras, default=str)


with DAG(
    dag_id="airkick_on_asset",
    start_date=datetime(2020, 1, 1),
    schedule=[LANDING],
    catchup=False,
    tags=["airkick"],
) as dag:
    PythonOperator(task_id="echo_events", python_callable=echo_events)
