"""Helpers for the consumer-group compat tests: member processes and assignment checks."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kcli.testing.process import ManagedProcess

MEMBER_SCRIPT = Path(__file__).with_name("group_member.py")
CLIENT_MODULES = {
    "confluent-kafka": "confluent_kafka",
    "kafka-python": "kafka",
    "aiokafka": "aiokafka",
}


def require(client: str) -> None:
    if importlib.util.find_spec(CLIENT_MODULES[client]) is None:
        pytest.skip(f"{client} is not installed")


class Member:
    """One group member process (group_member.py); its JSON lines are read from its log."""

    def __init__(  # noqa: PLR0917 - one process's whole command line
        self, workdir: Path, name: str, client: str, bootstrap: str, group: str, topic: str,
        assignor: str, validate: bool = False, instance: str | None = None,
    ) -> None:  # fmt: skip
        require(client)
        argv = [sys.executable, str(MEMBER_SCRIPT), client, bootstrap, group, topic, assignor]
        self.name = name
        self.client = client
        argv += ["--validate"] if validate else []
        argv += ["--instance", instance] if instance else []
        self.process = ManagedProcess(argv, workdir / f"member-{name}.log")

    def start(self) -> Member:
        self.process.start()
        return self

    def events(self) -> Iterator[dict[str, Any]]:
        for line in self.process.log().splitlines():
            if line.startswith("{"):
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line being written

    def assignment(self) -> set[tuple[str, int]]:
        """The latest assignment the member reported (empty once it has stopped)."""
        if not self.process.alive():
            return set()
        latest: list[list[Any]] = []
        for event in self.events():
            if "assigned" in event:
                latest = event["assigned"]
        return {(t, int(p)) for t, p in latest}

    def revocations(self) -> int:
        return sum(1 for e in self.events() if e.get("revoked"))

    def consumed(self) -> list[tuple[int, int]]:
        return [(int(p), int(o)) for e in self.events() for p, o in e.get("consumed", [])]

    def stop(self) -> None:
        self.process.stop(20)

    def kill(self) -> None:
        self.process.kill()


def split_ok(members: list[Member], partitions: set[tuple[str, int]]) -> bool:
    """Every partition owned by exactly one live member, and every live member owns some."""
    owned = [m.assignment() for m in members if m.process.alive()]
    union = set().union(*owned) if owned else set()
    return all(owned) and union == partitions and sum(map(len, owned)) == len(partitions)


def wait_for_split(
    members: list[Member], partitions: set[tuple[str, int]], timeout: float, steady: float = 1.5
) -> float:
    """Seconds until the live members split the partitions with no overlap and it holds for
    `steady` seconds; fails with every member's assignment after `timeout`."""
    start = time.monotonic()
    ok_since: float | None = None
    while time.monotonic() - start < timeout:
        if split_ok(members, partitions):
            ok_since = ok_since or time.monotonic()
            if time.monotonic() - ok_since >= steady:
                return ok_since - start
        else:
            ok_since = None
        time.sleep(0.1)
    detail = {m.name: sorted(m.assignment()) for m in members}
    logs = "\n".join(f"--- {m.name}\n{m.process.log()[-1500:]}" for m in members)
    raise AssertionError(f"no clean split of {sorted(partitions)} in {timeout}s: {detail}\n{logs}")
