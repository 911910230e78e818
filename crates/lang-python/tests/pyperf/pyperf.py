"""A stand-in for pyperf, packed beside an unmodified pyperformance
benchmark: one Runner whose bench_func and bench_time_func run the
benchmark once, and nothing else (no worker processes, no statistics)."""

import argparse
import time

perf_counter = time.perf_counter


class Runner:
    """Runs each benchmark function once."""

    def __init__(self, values=None, processes=None, loops=0, min_time=0.1,
                 metadata=None, show_name=True, program_args=None,
                 add_cmdline_args=None, _argparser=None, warmups=1):
        self.metadata = dict(metadata or {})
        self.argparser = argparse.ArgumentParser()
        self.args = None

    def parse_args(self, args=None):
        if self.args is None:
            self.args, _ = self.argparser.parse_known_args(args)
        return self.args

    def bench_func(self, name, func, *args, inner_loops=None, metadata=None):
        self.parse_args()
        func(*args)

    def bench_time_func(self, name, time_func, *args, inner_loops=None,
                        metadata=None):
        self.parse_args()
        return time_func(1, *args)

    def bench_command(self, name, command):
        raise NotImplementedError("bench_command needs processes")
