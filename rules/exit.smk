# The end of a run, for every Snakefile here (the product's and bench/per_photo.smk).
import threading

# Snakemake's job rate limiter wakes its scheduler with a timer made here: a
# private, misspelt name of Snakemake's (9.x). tests/test_exit.py fails the
# day it changes; docs/upstream/snakemake-exit-timer.md is the report upstream.
RESCHEDULING_TIMER = "JobScheduler._schedule_reevalutation."


def cancel_rescheduling_timers():
    """Let Snakemake exit as soon as the run is over.

    Snakemake's job rate limiter (--max-jobs-per-timespan, 100/1s by default)
    leaves a timer behind each round of scheduling, to wake the scheduler up;
    at the end of a run the process waits for the last one (its timespan: a
    second). Once the run has ended there is nothing left to schedule, so
    those timers are cancelled. Snakemake has no public way to turn the
    limiter off.
    """
    for thread in threading.enumerate():
        function = getattr(thread, "function", None)
        wakes_scheduler = getattr(function, "__qualname__", "").startswith(
            RESCHEDULING_TIMER
        )
        if isinstance(thread, threading.Timer) and wakes_scheduler:
            thread.cancel()


# What the including Snakefile says at the end of a successful run: the functions it adds here.
AT_SUCCESS = []
# What it does at the end of any run, successful or not.
AT_END = []


onsuccess:
    cancel_rescheduling_timers()
    for say in AT_SUCCESS:
        say()
    for end in AT_END:
        end()


onerror:
    cancel_rescheduling_timers()
    for end in AT_END:
        end()
