"""The one job system: every piece of background work is a Job row, dispatched through one
django-tasks task and run by `solocrm worker` in a child process it can stop (see services.py)."""
