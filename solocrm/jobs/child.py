"""``python -m solocrm.jobs.child JOB_UUID``: run one claimed job (started by runner.py).

Reads the worker's settings from stdin (a pickle), applies them before django.setup(), then
keeps reading stdin in a side thread: end-of-file means the worker is gone, and the job must
not outlive it (the next worker marks it failed; a half-run job writing on would race that).
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
import threading
import traceback


def _exit_when_the_worker_dies() -> None:
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(3)  # no clean-up: the worker that should record the end is gone


def main(job_id: str) -> None:
    snapshot = pickle.load(sys.stdin.buffer)  # noqa: S301 - written by our own worker over a pipe
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solocrm.settings")
    from django.conf import settings

    for name, value in snapshot.items():
        setattr(settings, name, value)
    import django

    django.setup()
    threading.Thread(target=_exit_when_the_worker_dies, daemon=True, name="worker-watch").start()

    from django.db import connections

    from solocrm.jobs.models import Job
    from solocrm.jobs.services import execute

    code = 0
    try:
        job = Job.objects.filter(uuid=job_id).first()
        if job is not None:
            Job.objects.filter(pk=job.pk).update(pid=os.getpid())
            execute(job)
    except BaseException:  # execute() records the job's own errors; this is the child's
        traceback.print_exc()
        code = 1
    finally:
        connections.close_all()
        logging.shutdown()  # flush what the job logged
        sys.stdout.flush()
        sys.stderr.flush()
        # Not a normal interpreter exit: the thread blocked on stdin would make it abort.
        os._exit(code)


if __name__ == "__main__":
    main(sys.argv[1])
