"""Celery tasks. Each is a thin shell over a service: the state lives in the database, not in the message."""

from celery import shared_task

from dataviews.exports import export_run, exports_sweep
from formats.jobs import annotation_job_run, annotation_jobs_sweep
from hyperdatasets.services.deletion import deletion_job_run, deletion_jobs_sweep
from hyperdatasets.services.table_statistics import frame_tables_analyze


@shared_task(name="hyperdatasets.run_deletion_job", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_deletion_job(job_id: str) -> None:
    deletion_job_run(job_id)


@shared_task(name="hyperdatasets.sweep_deletion_jobs", ignore_result=True)
def sweep_deletion_jobs() -> None:
    deletion_jobs_sweep()


@shared_task(name="hyperdatasets.analyze_frame_tables", ignore_result=True)
def analyze_frame_tables(rows_written: int = 0) -> None:
    frame_tables_analyze(rows_written)


@shared_task(name="hyperdatasets.run_dataview_export", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_dataview_export(export_id: str) -> None:
    export_run(export_id)


@shared_task(name="hyperdatasets.sweep_dataview_exports", ignore_result=True)
def sweep_dataview_exports() -> None:
    exports_sweep()


@shared_task(name="hyperdatasets.run_annotation_job", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_annotation_job(job_id: str) -> None:
    annotation_job_run(job_id)


@shared_task(name="hyperdatasets.sweep_annotation_jobs", ignore_result=True)
def sweep_annotation_jobs() -> None:
    annotation_jobs_sweep()
