"""What several benchmarks use to measure: a child process of its own, and a queue that only counts."""

from __future__ import annotations

import multiprocessing
import traceback


def in_child(function, *args):
    """``function(*args)`` in a forked process, so that its peak resident memory is its own; returns its result."""
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)

    def run() -> None:
        try:
            sending.send(("done", function(*args)))
        except BaseException:  # handed to the parent, which raises it
            sending.send(("failed", traceback.format_exc()))

    child = context.Process(target=run)
    child.start()
    outcome, result = receiving.recv()
    child.join()
    if outcome == "failed":
        raise RuntimeError(f"{getattr(function, '__name__', 'the work')} failed in its process:\n{result}")
    return result


class CountingQueue:
    """Counts entries and checks each row arrives once, in order, without keeping them (memory is measured)."""

    def __init__(self):
        self.calls = self.entries = 0

    def send_message_batch(self, QueueUrl, Entries):
        self.calls += 1
        for entry in Entries:
            self.entries += 1
            assert int(entry["Id"]) == self.entries, "a row was skipped or repeated"
        return {"Successful": [], "Failed": []}
