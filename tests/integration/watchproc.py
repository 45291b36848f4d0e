"""`petrel sync --watch` as a child process, for the tests: its JSON lines
read on a thread, waited for by a predicate, and SIGTERM to end it."""

import json
import os
import queue
import signal
import subprocess
import threading
import time

import harness


class Watch:
    def __init__(self, env, args=(), stderr=None, petrel=None):
        """env: the whole environment; args after `sync --watch`;
        stderr: a path to write it to (None: discarded)."""
        self.errfile = stderr
        err = open(stderr, "w") if stderr else subprocess.DEVNULL
        self.p = subprocess.Popen([petrel or harness.petrel_binary(), "sync",
                                   "--watch"] + list(args), env=env,
                                  stdout=subprocess.PIPE, stderr=err,
                                  text=True)
        if stderr:
            err.close()
        self.q = queue.Queue()
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            self.q.put(line)

    def wait(self, pred, timeout=15):
        """The first event (a dict) for which pred is true, or None; every
        line read is kept in self.lines. A line that is not JSON raises."""
        end = time.time() + timeout
        while time.time() < end:
            try:
                line = self.q.get(timeout=max(0.05, end - time.time()))
            except queue.Empty:
                break
            self.lines.append(line)
            ev = json.loads(line)
            if pred(ev):
                return ev
        return None

    def stop(self, sig=signal.SIGTERM):
        """Signal it and wait: (exit status or None, seconds it took)."""
        t0 = time.monotonic()
        self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = None
        return rc, time.monotonic() - t0


def changed(folder, total=None):
    """A predicate: a "changed" line for folder (with that total)."""
    return lambda ev: (ev.get("event") == "changed" and
                       ev.get("folder") == folder and
                       (total is None or ev.get("total") == total))


def state(name):
    return lambda ev: ev.get("event") == name
