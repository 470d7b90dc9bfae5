"""Checking and locking a ZooKeeper data dir before a server uses it.

ZooKeeper itself takes no lock; two kcli servers on one data dir would interleave their logs,
so the server holds an exclusive flock on `<dataDir>/.lock` (Kafka's log-dir lock name) while it
runs. The lock file holds the owner's pid, for people reading the directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from kcli.errors import ConfigError
from kcli.zookeeper.persistence.files import VERSION_DIR

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the check still runs
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".lock"


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def check_data_dir(data_dir: Path) -> Path:
    """Create `data_dir/version-2` if needed and prove it writable; returns `data_dir`.

    Raises ConfigError with one line, e.g.
    `cannot write ZooKeeper data dir /x: permission denied`.
    """
    data_dir = Path(data_dir)
    try:
        (data_dir / VERSION_DIR).mkdir(parents=True, exist_ok=True)
        probe = data_dir / VERSION_DIR / f".probe.{os.getpid()}"
        with open(probe, "wb"):
            pass
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"cannot write ZooKeeper data dir {data_dir}: {_reason(exc)}") from exc
    return data_dir


class DataDirLock:
    """`with DataDirLock(path):` checks the data dir and holds it exclusively until exit."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._fd: int | None = None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        check_data_dir(self.data_dir)
        path = self.data_dir / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigError(
                f"cannot write ZooKeeper data dir {self.data_dir}: {_reason(exc)}"
            ) from exc
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                raise ConfigError(
                    f"ZooKeeper data dir {self.data_dir} is in use by another server"
                    f" (lock held on {path})"
                ) from exc
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
