"""The native module under threads: a handle closed while other threads use it, and a
close() that runs while poll() builds its result. Each scenario runs in a child
interpreter, so that a use-after-free (a crash) or a deadlock (a hang, bounded by the
timeout) fails the test instead of the whole run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from conftest import WAIT


def _run(script: str) -> None:
    try:
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)],
                              capture_output=True, text=True, timeout=6 * WAIT,
                              env=dict(os.environ))
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"the child hung (a deadlock):\n{e.stdout}\n{e.stderr}") from e
    assert done.returncode == 0, (
        f"the child failed with {done.returncode}:\n{done.stdout}\n{done.stderr}")
    assert done.stdout.strip().endswith("ok"), done.stdout


def test_network_close_while_other_threads_isolate_and_heal():
    # isolate and heal run without the GIL; close() runs with it, meanwhile: the call must
    # finish on a live handle. The closing thread waits until both callers are busy, so it
    # takes the GIL (mostly) as one of them lets it go for a call. Under ThreadSanitizer
    # (the module built with it, libtsan preloaded) each round would report the race.
    _run("""
        import threading
        import synod

        for _ in range(100):
            net = synod.Network()
            calling = threading.Barrier(3, timeout=60)

            def hammer(call):
                for i in range(1_000_000):  # bounded; close() ends it long before
                    if i == 100:
                        calling.wait()
                    try:
                        call()
                    except synod.InvalidArgumentError:  # "the network is closed"
                        return
                raise AssertionError("the network never closed")

            threads = [threading.Thread(target=hammer, args=(lambda: net.isolate(1),)),
                       threading.Thread(target=hammer, args=(net.heal,))]
            for t in threads:
                t.start()
            calling.wait()
            net.close()
            for t in threads:
                t.join()
        print("ok")
    """)


def test_close_run_by_the_garbage_collector_inside_poll():
    # poll() builds Python objects, and any allocation may run the garbage collector and
    # with it a finalizer that closes the very node being polled. The close must not wait
    # for something poll() holds. The collector's callback closes the node on the first
    # collection that runs after poll() took the queued events (events that arrive later
    # do not refill the queue to where it was within the call).
    _run("""
        import gc
        from synod import _synod

        cfg = _synod.Config()
        cfg.node_id(1)
        cfg.add_member(1)
        cfg.tick_interval_ms(5)
        cfg.election_ticks(10)
        cfg.heartbeat_ticks(1)
        node = _synod.Node(cfg)
        node.wait_for_leader(1, 10_000)
        for tag in range(8):
            node.replicate(1, 1, b"x", tag)
        # Committed after the eight: their results are queued by the time it returns.
        node.replicate_wait(1, 1, b"y")
        queued = node.pending_events()
        assert queued >= 9, queued

        closed_inside = []

        def collecting(phase, info):
            if phase == "start" and not closed_inside and node.pending_events() < queued:
                closed_inside.append(True)
                node.close()

        gc.callbacks.append(collecting)
        thresholds = gc.get_threshold()
        gc.set_threshold(1)
        try:
            events = node.poll(1024, 0)
        finally:
            gc.set_threshold(*thresholds)
            gc.callbacks.remove(collecting)
        assert closed_inside, "no collection ran inside poll()"
        assert node.closed
        assert len(events) >= queued, events
        print("ok")
    """)
