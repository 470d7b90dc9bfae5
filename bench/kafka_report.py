"""The table kafka_bench.py prints: kcli, tansu, kcli/tansu and the goal of spec/targets.md."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

# Each goal judges (kcli, tansu) -> met?; None when a figure is missing.
Judge = Callable[[float, float | None], bool | None]


def at_least(times: float) -> Judge:
    return lambda k, t: None if t is None or t == 0 else k / t >= times


def at_most(times: float) -> Judge:
    return lambda k, t: None if t is None or t == 0 else k / t <= times


def under(limit: float) -> Judge:
    return lambda k, _t: k <= limit


@dataclass(frozen=True)
class Row:
    figure: str  # key in the medians
    label: str
    unit: str
    goal: str
    judge: Judge | None  # None: shown for information, no goal


def rows(a: argparse.Namespace) -> list[Row]:
    out: list[Row] = []
    cfgs = [f"{p}p {c}" for p in a.partitions.split(",") if p for c in a.codecs.split(",") if c]
    for kind in ("produce", "consume"):
        out += [Row(f"{kind} {c}", f"{kind} {c}", "rec/s", ">= 1.0x tansu", at_least(1.0))
                for c in cfgs]  # fmt: skip
    for kind in ("produce", "consume"):
        out += [Row(f"cpu {kind} {c}", f"broker CPU, {kind} {c}", "s/1M rec", "<= 0.5x tansu",
                    at_most(0.5)) for c in cfgs]  # fmt: skip
    for parts in a.latency_partitions.split(","):
        for wait in a.fetch_waits.split(","):
            cfg = f"{parts}p fw{wait}" if parts and wait else ""
            if not cfg:
                continue
            out.append(Row(f"e2e p50 {cfg}", f"e2e p50 {cfg}", "ms", "<= 5 ms", under(5.0)))
            out.append(Row(f"e2e p99 {cfg}", f"e2e p99 {cfg}", "ms", "<= 25 ms", under(25.0)))
            out.append(Row(f"ack p99 {cfg}", f"produce ack p99 {cfg}", "ms", "(info)", None))
    out.append(Row("small req/s", "small requests (1 rec each)", "req/s", ">= 1.5x tansu",
                   at_least(1.5)))  # fmt: skip
    out.append(Row("small cpu us/req", "broker CPU per small request", "us", "(info)", None))
    return out


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("rec/s", "req/s"):
        return f"{value:,.0f}"
    if unit == "s/1M rec":
        return f"{value:.3f}"
    return f"{value:.1f}"


def print_table(
    medians: dict[tuple[str, str], float], a: argparse.Namespace, tansu_ran: bool
) -> None:
    runs = "median of " + str(a.runs) + " runs" if a.runs > 1 else "one run"
    print(f"\n### kcli vs tansu ({a.count:,} x 100 B records; latency {a.rate:g} msg/s for "
          f"{a.duration:g} s; {a.small_count:,} small requests; {runs})\n")  # fmt: skip
    print("| figure | unit | kcli | tansu | kcli/tansu | goal | met |")
    print("|---|---|---:|---:|---:|---|---|")
    met = total = 0
    for row in rows(a):
        kcli = medians.get((row.figure, "kcli"))
        tansu = medians.get((row.figure, "tansu")) if tansu_ran else None
        if kcli is None and tansu is None:
            continue
        ratio = f"{kcli / tansu:.2f}x" if kcli is not None and tansu else "-"
        verdict = "-"
        if row.judge is not None:
            ok = None if kcli is None else row.judge(kcli, tansu)
            verdict = "?" if ok is None else ("yes" if ok else "NO")
            if ok is not None:
                total += 1
                met += ok
        print(f"| {row.label} | {row.unit} | {fmt(kcli, row.unit)} | {fmt(tansu, row.unit)} | "
              f"{ratio} | {row.goal} | {verdict} |")  # fmt: skip
    print(
        f"\nGoals met: {met} of {total} judged. Throughput higher is better; CPU and latency "
        "lower is better. tansu keeps records in memory; kcli writes segment files."
    )
