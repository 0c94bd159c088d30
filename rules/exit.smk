# The end of a run, for every Snakefile here (the product's and bench/per_photo.smk).
import threading


def cancel_rescheduling_timers():
    """Let Snakemake exit as soon as the run is over.

    Snakemake's job rate limiter (--max-jobs-per-timespan, 100/1s by default)
    leaves a 1 s timer behind each round of scheduling, to wake the scheduler
    up; at the end of a run the process waits for it: 1 s of every run (0.9 s
    instead of 1.9 s for a one-job workflow, measured). Once the run has
    ended there is nothing left to schedule, so those timers are cancelled.
    """
    for thread in threading.enumerate():
        function = getattr(thread, "function", None)
        wakes_scheduler = getattr(function, "__qualname__", "").startswith(
            "JobScheduler._schedule_reevalutation"
        )
        if isinstance(thread, threading.Timer) and wakes_scheduler:
            thread.cancel()


onsuccess:
    cancel_rescheduling_timers()


onerror:
    cancel_rescheduling_timers()
