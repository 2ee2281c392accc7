"""Work submitted by many requests, done in batches on a few threads: the machinery of group commit.

Each request's item waits in a queue; a writer thread, whenever it is free, takes every item waiting (at most
``max_batch``) and hands them to ``handle`` together, which returns one result per item, in order (a value, or the
exception that request should raise). Each request is answered with its own result once ``handle`` returned. Nothing
waits for a batch to fill, so a lone item is handled at once; under load, the items that arrived while a batch was
being handled form the next one.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Waiting(Generic[T, R]):
    item: T
    loop: asyncio.AbstractEventLoop
    answer: asyncio.Future[R]

    def settle(self, outcome: R | BaseException) -> None:
        self.loop.call_soon_threadsafe(_settle, self.answer, outcome)


def _settle(answer: asyncio.Future[R], outcome: R | BaseException) -> None:
    if answer.done():  # the client went away (cancelled); the work is done (or not) all the same
        return
    if isinstance(outcome, BaseException):
        answer.set_exception(outcome)
    else:
        answer.set_result(outcome)


class Batcher(Generic[T, R]):
    """Handles submitted items in batches on ``writers`` threads (started on first use)."""

    def __init__(self, handle: Callable[[list[T]], list[R | BaseException]], max_batch: int, writers: int, name: str):
        self._handle = handle
        self._max_batch = max(1, max_batch)
        self._writer_count = max(1, writers)
        self._name = name
        self._queue: queue.SimpleQueue[_Waiting[T, R] | None] = queue.SimpleQueue()
        self._start = threading.Lock()
        self._writers: list[threading.Thread] = []

    async def submit(self, item: T) -> R:
        """``item``'s result, once its batch was handled; an exception result is raised."""
        loop = asyncio.get_running_loop()
        waiting: _Waiting[T, R] = _Waiting(item, loop, loop.create_future())
        self._ensure_writers()
        self._queue.put(waiting)
        return await waiting.answer

    def close(self) -> None:
        """Let the writers finish what is queued, then stop them."""
        with self._start:
            writers, self._writers = self._writers, []
        for _ in writers:
            self._queue.put(None)
        for writer in writers:
            writer.join()

    def _ensure_writers(self) -> None:
        if not self._writers:
            with self._start:
                if not self._writers:
                    self._writers = [
                        threading.Thread(target=self._write, name=f"{self._name}-{n}", daemon=True)
                        for n in range(self._writer_count)
                    ]
                    for writer in self._writers:
                        writer.start()

    def _write(self) -> None:
        while True:
            batch = self._next_batch()
            if not batch:
                return
            try:
                outcomes = self._handle([waiting.item for waiting in batch])
            except BaseException:  # the process is going down (or a bug): say so to every request, and stop
                for waiting in batch:
                    waiting.settle(RuntimeError("the server stopped before the request was handled"))
                raise
            for waiting, outcome in zip(batch, outcomes, strict=True):
                waiting.settle(outcome)

    def _next_batch(self) -> list[_Waiting[T, R]]:
        """The next item and every one waiting behind it, up to ``max_batch``; empty to stop."""
        first = self._queue.get()
        if first is None:
            return []
        batch = [first]
        while len(batch) < self._max_batch:
            try:
                following = self._queue.get_nowait()
            except queue.Empty:
                break
            if following is None:
                self._queue.put(None)  # stop after this batch
                break
            batch.append(following)
        return batch
