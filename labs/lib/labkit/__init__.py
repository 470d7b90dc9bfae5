"""labkit: run a kcli lab as a guided walkthrough, or unattended with `--auto`.

A lab is a folder of small shell scripts (one per step, calling `kcli`) plus a `walkthrough.py`
that drives them through a `Lab`:

    lab = Lab(__file__, "Lab 0: ZooKeeper", ports={"zookeeper": Port("ZK_PORT", 2181)})
    with lab:
        zk = lab.start("Start ZooKeeper", "run-zookeeper.sh", ready_port="zookeeper")
        lab.step("Create znodes", "create-znodes.sh", expect=["Created /lab"])

Every step prints what it runs (the script's commands) and its output, then checks what a learner
should see; a failed check stops the lab with exit status 1. Interactive runs pause before each
step; `--auto` never pauses. Scripts run in the lab folder with the ports in environment
variables (`ZK_PORT=2181`), so a learner can run the same scripts by hand. Every process the lab
starts runs in its own session and is stopped by PID when the lab ends, fails or is interrupted.
Before anything starts, each port the lab needs is checked; a taken port is refused in one line.
"""

from __future__ import annotations

from labkit.lab import Check, Lab, described
from labkit.processes import Background, LabFailed, Port, Refused, free_port, port_in_use

__all__ = [
    "Background",
    "Check",
    "Lab",
    "LabFailed",
    "Port",
    "Refused",
    "described",
    "free_port",
    "port_in_use",
]
