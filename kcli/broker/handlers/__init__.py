"""Handler registry: one module per API key, loaded once at broker start-up.

ApiVersions is computed from this registry, so adding a module here is what makes the broker
advertise (and accept) an API.
"""

from __future__ import annotations

import importlib

from kcli.broker.handlers.base import Handler

HANDLER_MODULES: tuple[str, ...] = (
    "kcli.broker.handlers.api_versions",
    "kcli.broker.handlers.metadata",
    "kcli.broker.handlers.describe_cluster",
    "kcli.broker.handlers.create_topics",
    "kcli.broker.handlers.delete_topics",
    "kcli.broker.handlers.create_partitions",
    "kcli.broker.handlers.describe_configs",
    "kcli.broker.handlers.alter_configs",
    "kcli.broker.handlers.incremental_alter_configs",
    "kcli.broker.handlers.leader_and_isr",
    "kcli.broker.handlers.stop_replica",
    "kcli.broker.handlers.update_metadata",
    "kcli.broker.handlers.controlled_shutdown",
    "kcli.broker.handlers.elect_leaders",
    "kcli.broker.handlers.produce",
    "kcli.broker.handlers.fetch",
    "kcli.broker.handlers.list_offsets",
    "kcli.broker.handlers.offset_for_leader_epoch",
    "kcli.broker.handlers.init_producer_id",
    "kcli.broker.handlers.find_coordinator",
    "kcli.broker.handlers.join_group",
    "kcli.broker.handlers.sync_group",
    "kcli.broker.handlers.heartbeat",
    "kcli.broker.handlers.leave_group",
    "kcli.broker.handlers.offset_commit",
    "kcli.broker.handlers.offset_fetch",
    "kcli.broker.handlers.describe_groups",
    "kcli.broker.handlers.list_groups",
    "kcli.broker.handlers.delete_groups",
    "kcli.broker.handlers.offset_delete",
)


def load_registry(modules: tuple[str, ...] = HANDLER_MODULES) -> dict[int, Handler]:
    registry: dict[int, Handler] = {}
    for name in modules:
        module = importlib.import_module(name)
        handler = Handler(
            api_key=int(module.API_KEY),
            min_version=int(module.MIN_VERSION),
            max_version=int(module.MAX_VERSION),
            handle=module.handle,
            name=name.rsplit(".", 1)[1],
            decode=getattr(module, "decode", None),
        )
        if handler.api_key in registry:
            raise RuntimeError(f"two handlers for api key {handler.api_key}: {name}")
        registry[handler.api_key] = handler
    return dict(sorted(registry.items()))
