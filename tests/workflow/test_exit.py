"""rules/exit.smk finds the timers Snakemake's scheduler leaves behind (a private name of Snakemake's)."""

import re
import threading
from types import SimpleNamespace

from conftest import PROJECT_ROOT


def test_the_timer_exit_smk_cancels_is_still_made_where_it_looks():
    # Fails the day Snakemake renames or rewrites its private method: exit.smk
    # would then silently stop cancelling the timer (every run 1 s longer).
    from snakemake.scheduling.job_scheduler import JobScheduler

    prefix = re.search(r'RESCHEDULING_TIMER = "(.+)"', (PROJECT_ROOT / "rules/exit.smk").read_text())[1]
    before = set(threading.enumerate())
    scheduler = SimpleNamespace(_open_jobs=threading.Semaphore(0))

    JobScheduler._schedule_reevalutation(scheduler, 60)

    (timer,) = set(threading.enumerate()) - before
    timer.cancel()
    assert isinstance(timer, threading.Timer)
    assert timer.function.__qualname__.startswith(prefix)
