"""Sample the kcli broker with py-spy while one workload runs, and name where its time goes.

kafka_bench.py --py-spy DIR wraps every kcli workload in `py-spy record --format raw` (collapsed
stacks, one `frame;frame;... count` line per distinct stack) and prints the functions with the
most samples on top of the stack (self time) and anywhere in it (inclusive). py-spy is a tool
for this benchmark only (`pip install py-spy`); without it the option is refused.
"""

from __future__ import annotations

import collections
import re
import shutil
import signal
import subprocess
from pathlib import Path

# "handle (kcli/broker/handlers/produce.py:42)" -> "handle (kcli/broker/handlers/produce.py)"
LINE_NUMBER = re.compile(r":\d+\)$")


def py_spy_path() -> str | None:
    return shutil.which("py-spy")


class Sampler:
    """py-spy record on one PID for as long as the `with` block runs."""

    def __init__(self, pid: int, out: Path, rate: int = 500) -> None:
        self.out = out
        binary = py_spy_path()
        assert binary is not None
        self.argv = [binary, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw",
                     "--nonblocking", "--output", str(out)]  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Sampler:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.out.with_suffix(".log"), "wb")  # closed in __exit__
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT)
        self._log = log
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def _frame(raw: str) -> str:
    return LINE_NUMBER.sub(")", raw.strip())


def top_functions(path: Path, limit: int = 12) -> list[tuple[str, float, float]]:
    """(function, self %, inclusive %) for the functions with most self samples."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    try:
        lines = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return []
    for line in lines:
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame(f) for f in stack.split(";") if f.strip()]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    if total == 0:
        return []
    return [
        (name, 100.0 * n / total, 100.0 * inclusive[name] / total)
        for name, n in own.most_common(limit)
    ]


def print_profile(title: str, path: Path, limit: int = 12) -> None:
    rows = top_functions(path, limit)
    print(f"\n#### where the kcli broker's samples went: {title} ({path.name})")
    if not rows:
        print("(no samples: see the .log file beside it)")
        return
    print("| self % | incl % | function (file) |")
    print("|---:|---:|---|")
    for name, self_pct, incl_pct in rows:
        print(f"| {self_pct:5.1f} | {incl_pct:5.1f} | `{name}` |")
