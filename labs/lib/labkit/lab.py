"""The `Lab` class: options, the scripts' environment, steps, checks and cleanup."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kcli.testing.process import port_open
from labkit.processes import (
    Background,
    LabFailed,
    Port,
    Refused,
    free_port,
    port_in_use,
    wait_for,
)

Check = Callable[[str], "str | None"]  # output -> failure message, or None when fine


@dataclass
class Lab:
    """One walkthrough: options, environment for the scripts, steps, checks and cleanup."""

    walkthrough_file: str
    title: str
    ports: dict[str, Port] = field(default_factory=dict)
    argv: Sequence[str] | None = None

    def __post_init__(self) -> None:
        self.folder = Path(self.walkthrough_file).resolve().parent
        args = self._parse(self.argv)
        self.auto: bool = args.auto
        self.work_dir = (args.work_dir or self.folder).resolve()
        self.port_numbers = {name: port.default for name, port in self.ports.items()}
        for name, port in self.ports.items():
            env_value = os.environ.get(port.env)
            if env_value and env_value.isdigit():
                self.port_numbers[name] = int(env_value)
        for item in args.port:
            name, _, value = item.partition("=")
            if name not in self.ports or not value.isdigit():
                raise SystemExit(f"--port wants NAME=NUMBER with NAME in {sorted(self.ports)}")
            self.port_numbers[name] = int(value)
        if args.free_ports:
            self.port_numbers = {name: free_port() for name in self.ports}
        self.step_number = 0
        self.processes: list[Background] = []
        self.env = self._environment()

    def _parse(self, argv: Sequence[str] | None) -> argparse.Namespace:
        parser = argparse.ArgumentParser(description=self.title)
        parser.add_argument("--auto", action="store_true", help="run unattended, no pauses")
        parser.add_argument(
            "--port", action="append", default=[], metavar="NAME=N", help="use another port"
        )
        parser.add_argument(
            "--free-ports", action="store_true", help="pick free ports for every server"
        )
        parser.add_argument(
            "--work-dir", type=Path, help="where data, logs and generated configs go"
        )
        return parser.parse_args(argv)

    # -- environment ----------------------------------------------------------------------------

    def port(self, name: str) -> int:
        return self.port_numbers[name]

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        # The kcli installed next to this Python comes first, so scripts call the same kcli.
        bin_dir = str(Path(sys.executable).parent)
        env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
        if shutil.which("kcli", path=env["PATH"]) is None:
            shim_dir = self.work_dir / "logs" / "bin"
            shim_dir.mkdir(parents=True, exist_ok=True)
            shim = shim_dir / "kcli"
            shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m kcli "$@"\n')
            shim.chmod(0o755)
            env["PATH"] = str(shim_dir) + os.pathsep + env["PATH"]
        # `kcli *-stop` then sees only the servers this lab started.
        env["KCLI_RUN_DIR"] = str(self.work_dir / "logs" / "pids")
        env["PYTHONUNBUFFERED"] = "1"
        for name, port in self.ports.items():
            env[port.env] = str(self.port_numbers[name])
        return env

    def render_properties(self, name: str, env_var: str, overrides: dict[str, str]) -> Path:
        """A copy of the lab's properties file with `overrides`, used when defaults change.

        With default ports and work dir the lab's own file is used unchanged (the learner sees
        exactly what runs); otherwise the copy goes to the work dir and `env_var` points at it.
        """
        source = self.folder / name
        changed = {k: v for k, v in overrides.items() if _property(source, k) != v}
        if not changed:
            return source
        lines = []
        for line in source.read_text().splitlines():
            key = line.split("=", 1)[0].strip()
            lines.append(f"{key}={changed.pop(key)}" if key in changed else line)
        lines += [f"{k}={v}" for k, v in changed.items()]
        target = self.work_dir / "data" / "config" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(lines) + "\n")
        self.env[env_var] = str(target)
        return target

    def reset_dir(self, relative: str) -> Path:
        """Remove what an earlier run left in `work_dir/relative`, so every run starts fresh."""
        path = self.work_dir / relative
        if path.exists():
            print(f"# removing {path} left by an earlier run", flush=True)
            shutil.rmtree(path)
        return path

    # -- narrative ------------------------------------------------------------------------------

    def pause(self, prompt: str = "Press Enter to run this step (Ctrl-C to stop) ") -> None:
        if self.auto:
            return
        try:
            input(prompt)
        except EOFError:  # input is not a terminal: carry on as --auto would
            self.auto = True

    def _header(self, title: str, explain: str) -> None:
        self.step_number += 1
        print(f"\n== Step {self.step_number}: {title} ==", flush=True)
        if explain:
            print(explain.strip(), flush=True)

    def _show_script(self, script: str, args: Sequence[str]) -> list[str]:
        path = self.folder / script
        print(f"$ ./{script}{''.join(' ' + a for a in args)}", flush=True)
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped and not stripped.startswith(("#", "cd ", "set -")):
                print(f"    | {stripped}", flush=True)
        return ["bash", str(path), *args]

    # -- steps ----------------------------------------------------------------------------------

    def step(
        self,
        title: str,
        script: str,
        *args: str,
        explain: str = "",
        expect: Sequence[str] = (),
        absent: Sequence[str] = (),
        checks: Sequence[Check] = (),
        exit_code: int | None = 0,
        timeout: float = 60.0,
    ) -> str:
        """Run a script to completion, show its output, check it; returns the output."""
        self._header(title, explain)
        argv = self._show_script(script, args)
        self.pause()
        try:
            res = subprocess.run(
                argv,
                cwd=self.folder,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise LabFailed(f"{script} did not finish within {timeout:g}s") from None
        output = res.stdout.decode(errors="replace")
        for line in output.splitlines():
            print(f"  {line}", flush=True)
        if exit_code is not None and res.returncode != exit_code:
            raise LabFailed(f"{script} exited with {res.returncode}, expected {exit_code}")
        self.verify(output, expect=expect, absent=absent, checks=checks)
        return output

    def verify(
        self,
        output: str,
        expect: Sequence[str] = (),
        absent: Sequence[str] = (),
        checks: Sequence[Check] = (),
    ) -> None:
        for text in expect:
            if text not in output:
                raise LabFailed(f"expected to see {text!r}")
            print(f"  ✓ shows {text!r}", flush=True)
        for text in absent:
            if text in output:
                raise LabFailed(f"did not expect to see {text!r}")
            print(f"  ✓ no {text!r}", flush=True)
        for check in checks:
            problem = check(output)
            if problem is not None:
                raise LabFailed(problem)
            print(f"  ✓ {getattr(check, 'description', 'check passed')}", flush=True)

    def start(
        self,
        title: str,
        script: str,
        *args: str,
        name: str | None = None,
        explain: str = "",
        ready_port: str | None = None,
        ready: Callable[[], bool] | None = None,
        stdin: bool = False,
        timeout: float = 60.0,
    ) -> Background:
        """Start a long-running script (a server, a shell) and wait until it is ready."""
        self._header(title, explain)
        argv = self._show_script(script, args)
        print("  (runs in the background here; by hand you would give it its own terminal)")
        self.pause()
        name = name or Path(script).stem
        log_path = self.work_dir / "logs" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                argv,
                cwd=self.folder,
                env=self.env,
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the lab, which then stops it by PID
            )
        process = Background(name, proc, log_path, proc.stdin)
        self.processes.append(process)
        probes: list[Callable[[], bool]] = []
        if ready_port is not None:
            port = self.port(ready_port)
            probes.append(lambda: port_open("127.0.0.1", port))
        if ready is not None:
            probes.append(ready)

        def is_ready() -> bool:
            if not process.alive():
                raise LabFailed(f"{name} exited early; its log says:\n{process.log()[-1500:]}")
            return all(probe() for probe in probes)

        wait_for(is_ready, timeout, f"{name} to be ready")
        print(f"  ✓ {name} is running (pid {proc.pid}, log {log_path})", flush=True)
        return process

    def stop(self, process: Background, title: str, explain: str = "") -> int:
        """Stop a background process the way its terminal's Ctrl-C would."""
        self._header(title, explain)
        print(f"$ kill -TERM {process.proc.pid}    # Ctrl-C in {process.name}'s terminal")
        self.pause()
        code = process.stop()
        print(f"  ✓ {process.name} stopped (exit status {code})", flush=True)
        return code

    def expect_exit(self, process: Background, timeout: float = 30.0) -> int:
        """Check that a background process has ended (after a step told it to stop)."""
        try:
            code = process.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise LabFailed(
                f"{process.name} still running {timeout:g}s after being stopped"
            ) from None
        print(f"  ✓ {process.name} (pid {process.proc.pid}) exited with status {code}", flush=True)
        return code

    def send(
        self,
        process: Background,
        title: str,
        lines: Sequence[str],
        *,
        explain: str = "",
        wait_for_log: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        """Type `lines` into a background shell, as a learner would in its terminal."""
        self._header(title, explain)
        for line in lines:
            print(f"  {process.name}> {line}", flush=True)
        self.pause()
        for line in lines:
            process.send_line(line)
        if wait_for_log is not None:
            text = wait_for_log
            wait_for(lambda: text in process.log(), timeout, f"{text!r} from {process.name}")
            print(f"  ✓ {process.name} printed {text!r}", flush=True)

    def end_input(self, process: Background, title: str, explain: str = "") -> int:
        """Close a background shell's input (Ctrl-D in its terminal) and wait for it to exit."""
        self._header(title, explain)
        print(f"  {process.name}> ^D", flush=True)
        self.pause()
        try:
            code = process.close_stdin()
        except subprocess.TimeoutExpired:
            raise LabFailed(f"{process.name} did not exit after its input ended") from None
        print(f"  ✓ {process.name} exited (status {code})", flush=True)
        return code

    # -- running the whole lab ------------------------------------------------------------------

    def check_ports(self) -> None:
        for name, number in self.port_numbers.items():
            if port_in_use(number):
                env = self.ports[name].env
                raise Refused(
                    f"port {number} ({name}) is already in use. Stop whatever listens there, or "
                    f"run this lab on another port: --port {name}=N (or {env}=N)."
                )

    def cleanup(self) -> None:
        for process in reversed(self.processes):
            if process.alive():
                print(f"  stopping {process.name} (pid {process.proc.pid})", flush=True)
            process.stop()
        self.processes.clear()

    def __enter__(self) -> Lab:
        mode = "unattended (--auto)" if self.auto else "guided"
        ports = ", ".join(f"{n} {p}" for n, p in self.port_numbers.items())
        print(f"# {self.title}\n# mode: {mode}; ports: {ports}; work dir: {self.work_dir}")
        signal.signal(signal.SIGTERM, _raise_interrupt)
        signal.signal(signal.SIGHUP, _raise_interrupt)
        try:
            self.check_ports()
        except Refused as exc:  # __exit__ does not run when __enter__ fails
            print(f"Error: {exc}", file=sys.stderr, flush=True)
            raise SystemExit(2) from None
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        # A second Ctrl-C must not cut the cleanup short and leave servers behind.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            self.cleanup()
        finally:
            signal.signal(signal.SIGINT, previous)
        if exc is None:
            print(f"\nAll {self.step_number} steps passed.", flush=True)
            return
        if isinstance(exc, LabFailed):
            print(f"\n✗ Step {self.step_number} failed: {exc}", file=sys.stderr, flush=True)
            raise SystemExit(1) from None
        if isinstance(exc, KeyboardInterrupt):
            print("\nInterrupted; everything the lab started has been stopped.", file=sys.stderr)
            raise SystemExit(130) from None


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _property(path: Path, key: str) -> str | None:
    for line in path.read_text().splitlines():
        match = re.match(rf"\s*{re.escape(key)}\s*[=:]\s*(.*?)\s*$", line)
        if match:
            return match.group(1)
    return None


def described(description: str, check: Check) -> Check:
    """Give a check the line it prints when it passes."""
    check.description = description  # type: ignore[attr-defined]
    return check
