"""`kcli consumer-groups` options and Kafka's checks of them (ConsumerGroupCommandOptions.checkArgs
of Kafka 2.8-3.x, jopt-simple's wording: options are named `[name]`).

Pure: no client is built until these pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kcli.admin.groups_model import GROUP_STATES
from kcli.admin.groups_reset import parse_datetime_ms, parse_duration_ms
from kcli.errors import TerseError

ACTIONS = ("list", "describe", "delete", "reset-offsets", "delete-offsets")
# Reset scenarios in the order Kafka's checkInvalidArgs lines run.
SCENARIOS = (
    "to-offset",
    "to-datetime",
    "by-duration",
    "to-earliest",
    "to-latest",
    "to-current",
    "shift-by",
    "from-file",
)
DRY_RUN_WARNING = (
    "WARN: No action will be performed as the --execute option is missing."
    "In a future major release, the default behavior of this command will be to prompt the user "
    "before executing the reset rather than doing a dry run. You should add the --dry-run option "
    "explicitly if you are scripting this command and want to keep the current default behavior "
    "without prompting."
)


class UsageError(TerseError):
    """What Kafka's tool reports through printUsageAndDie (exit 1)."""


def parse_states(raw: str) -> set[str]:
    """ConsumerGroupState.parse over a comma list (case-insensitive); unknown names refused."""
    by_upper = {s.upper(): s for s in GROUP_STATES}
    parsed = {by_upper.get(s.strip().upper()) for s in raw.split(",")}
    if None in parsed:
        raise UsageError(f"Invalid state list '{raw}'. Valid states are: {', '.join(GROUP_STATES)}")
    return {s for s in parsed if s is not None}


@dataclass
class GroupCommandOptions:
    actions: list[str]
    bootstrap_server: str | None = None
    command_config: str | None = None
    groups: list[str] = field(default_factory=list)
    all_groups: bool = False
    topics: list[str] = field(default_factory=list)
    all_topics: bool = False
    timeout_ms: int = 5000
    members: bool = False
    verbose: bool = False
    offsets: bool = False
    state: str | None = None  # None: absent; "": given without a value
    dry_run: bool = False
    execute: bool = False
    export: bool = False
    to_offset: int | None = None
    to_earliest: bool = False
    to_latest: bool = False
    to_current: bool = False
    shift_by: int | None = None
    to_datetime: str | None = None
    by_duration: str | None = None
    from_file: str | None = None

    @property
    def action(self) -> str:
        return self.actions[0]

    def scenarios(self) -> list[str]:
        given = {
            "to-offset": self.to_offset is not None,
            "to-datetime": self.to_datetime is not None,
            "by-duration": self.by_duration is not None,
            "to-earliest": self.to_earliest,
            "to-latest": self.to_latest,
            "to-current": self.to_current,
            "shift-by": self.shift_by is not None,
            "from-file": self.from_file is not None,
        }
        return [name for name in SCENARIOS if given[name]]

    @property
    def dry_run_warning(self) -> str | None:
        """Kafka's stderr warning when --reset-offsets has neither --execute nor --dry-run."""
        if "reset-offsets" in self.actions and not (self.dry_run or self.execute):
            return DRY_RUN_WARNING
        return None

    def check(self) -> None:
        """Kafka's order: option availability (parse time), checkArgs, then one action."""
        has = set(self.actions)
        for name, on in (("members", self.members), ("verbose", self.verbose),
                         ("offsets", self.offsets)):  # fmt: skip
            if on and "describe" not in has:
                raise UsageError(
                    f"Option(s) [{name}] are unavailable given other options on the command line"
                )
        if self.state is not None and not has & {"describe", "list"}:
            raise UsageError(
                "Option(s) [state] are unavailable given other options on the command line"
            )
        if not self.bootstrap_server:
            raise UsageError('Missing required argument "[bootstrap-server]"')
        self._check_actions(has)
        if self.groups and self.all_groups:
            raise UsageError('Option "[group]" can\'t be used with option "[all-groups]"')
        if self.groups and "list" in has:
            raise UsageError('Option "[group]" can\'t be used with option "[list]"')
        if self.topics:
            for other in ("list", "describe"):
                if other in has:
                    raise UsageError(f'Option "[topic]" can\'t be used with option "[{other}]"')
        if len(self.actions) != 1:
            raise UsageError(
                "Command must include exactly one action: --list, --describe, --delete, "
                "--reset-offsets, --delete-offsets"
            )
        if self.state and "list" in has:
            parse_states(self.state)

    def _check_actions(self, has: set[str]) -> None:
        scope = "[group], [all-groups]"
        if "describe" in has:
            if not self.groups and not self.all_groups:
                raise UsageError(f"Option [describe] takes one of these options: {scope}")
            if sum((self.members, self.offsets, self.state is not None)) > 1:
                raise UsageError(
                    "Option [describe] takes at most one of these options: "
                    "[members], [offsets], [state]"
                )
            if self.state:
                raise UsageError("Option [describe] does not take a value for [state]")
        if "delete" in has:
            if not self.groups and not self.all_groups:
                raise UsageError(f"Option [delete] takes one of these options: {scope}")
            if self.topics:
                raise UsageError(
                    "The consumer does not support topic-specific offset deletion from a "
                    "consumer group."
                )
        if "delete-offsets" in has and (not self.groups or not self.topics):
            raise UsageError(
                "Option [delete-offsets] takes the following options: [group], [topic]"
            )
        if "reset-offsets" in has:
            self._check_reset(scope)

    def _check_reset(self, scope: str) -> None:
        if self.dry_run and self.execute:
            raise UsageError("Option [reset-offsets] only accepts one of [execute] and [dry-run]")
        if not self.groups and not self.all_groups:
            raise UsageError(f"Option [reset-offsets] takes one of these options: {scope}")
        chosen = self.scenarios()
        if len(chosen) > 1:
            raise UsageError(f'Option "[{chosen[0]}]" can\'t be used with option "[{chosen[1]}]"')
        if not chosen:
            raise UsageError(
                "Option '[reset-offsets]' requires one of the following scenarios: "
                + ", ".join(f"[{s}]" for s in SCENARIOS)
            )
        if not (self.all_topics or self.topics or self.from_file is not None):
            raise UsageError("One of the reset scopes should be defined: --all-topics, --topic.")
        # Kafka parses these only once connected; failing before connecting says the same.
        if self.to_datetime is not None:
            parse_datetime_ms(self.to_datetime)
        if self.by_duration is not None:
            parse_duration_ms(self.by_duration)


def parse_topic_arg(arg: str) -> tuple[str, list[int] | None]:
    """`topic` or `topic:0,1,2` (--topic of --reset-offsets and --delete-offsets)."""
    if ":" not in arg:
        return arg, None
    topic, _, parts = arg.partition(":")
    partitions: list[int] = []
    for p in parts.split(","):
        try:
            partitions.append(int(p.strip()))
        except ValueError:
            raise UsageError(f"Invalid partition '{p}' specified in topic arg '{arg}'") from None
    return topic, partitions
