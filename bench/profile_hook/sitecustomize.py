"""Bench-only: profile every process of a qcluster (or any multiprocessing tree) with cProfile.

Python imports ``sitecustomize`` at start-up from the path, so ``bench/cpu_per_lead.py --profile DIR`` puts this
folder on PYTHONPATH with BENCH_PROFILE_DIR=DIR. Each multiprocessing child (django-q2's pusher, workers and
monitor are forked ones) is profiled in CPU time from its start to its end and written to DIR/<name>-<pid>.prof;
py-spy cannot read this machine's Python build, and profiling in-process misses the task machinery around the
pipeline, which is what this is for. Without BENCH_PROFILE_DIR it does nothing.
"""

import os

if os.environ.get("BENCH_PROFILE_DIR"):
    import cProfile
    import multiprocessing.process
    import time

    _bootstrap = multiprocessing.process.BaseProcess._bootstrap

    def _profiled_bootstrap(self, *args, **kwargs):
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        try:
            return _bootstrap(self, *args, **kwargs)
        finally:
            profiler.disable()
            name = self.name.replace("/", "-")
            profiler.dump_stats(os.path.join(os.environ["BENCH_PROFILE_DIR"], f"{name}-{os.getpid()}.prof"))

    multiprocessing.process.BaseProcess._bootstrap = _profiled_bootstrap
