"""Metadata (3), v0-12: brokers on the request's listener, cluster id, controller, and topics
from the metadata cache (which ZooKeeper watches keep current).

Topic list semantics: v0 sends an empty list for "all topics"; v1+ sends null for all and an
empty list for none. v10+ may name a topic by id only. Unknown names answer
UNKNOWN_TOPIC_OR_PARTITION and illegal ones INVALID_TOPIC_EXCEPTION. With
auto.create.topics.enable (and allow_auto_topic_creation, v4+) an unknown legal name is created
with num.partitions and default.replication.factor and answered LEADER_NOT_AVAILABLE until the
controller has made it live, as Kafka does.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kcli.broker.admin_manager import AdminError
from kcli.broker.handlers.base import RawResponse, RequestContext
from kcli.broker.metadata_cache import ZERO_UUID, MetadataCache, TopicInfo
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import (
    RequestHeader,
    build,
    encode_body,
    nested,
    response_class,
    response_header_version,
)
from kcli.protocol.topic import is_internal, topic_name_error

API_KEY = ApiKey.METADATA
MIN_VERSION = 0
MAX_VERSION = 12

AUTHORIZED_OPERATIONS_OMITTED = -(2**31)


def _partitions(cls: type[Any], topic: TopicInfo, cache: MetadataCache) -> tuple[Any, ...]:
    result = []
    for index in sorted(topic.assignment):
        replicas = topic.assignment[index]
        state = topic.states.get(index)
        offline = tuple(r for r in replicas if r not in cache.brokers)
        if state is not None and state.leader in cache.brokers:
            error, leader, epoch, isr = ErrorCode.none, state.leader, state.leader_epoch, state.isr
        else:
            error, leader, epoch = ErrorCode.leader_not_available, -1, -1
            isr = state.isr if state is not None else ()
        result.append(
            build(
                cls,
                error_code=error,
                partition_index=index,
                leader_id=leader,
                leader_epoch=epoch,
                replica_nodes=replicas,
                isr_nodes=isr,
                offline_replicas=offline,
            )
        )
    return tuple(result)


def _topic(
    cls: type[Any],
    part_cls: type[Any],
    name: str,
    cache: MetadataCache,
    wanted_id: Any = None,
    *,
    created: dict[str, ErrorCode] | None = None,
) -> Any:
    error = ErrorCode.none
    info = cache.topics.get(name)
    if info is None:
        error = (
            ErrorCode.invalid_topic_exception
            if topic_name_error(name)
            else (created or {}).get(name, ErrorCode.unknown_topic_or_partition)
        )
    return build(
        cls,
        error_code=error,
        name=name,
        topic_id=info.topic_id if info is not None else (wanted_id or ZERO_UUID),
        is_internal=is_internal(name),
        partitions=_partitions(part_cls, info, cache) if info is not None else (),
        topic_authorized_operations=AUTHORIZED_OPERATIONS_OMITTED,
    )


def _requested_topics(
    version: int,
    request: Any,
    cls: type[Any],
    part_cls: type[Any],
    cache: MetadataCache,
    *,
    created: dict[str, ErrorCode],
) -> list[Any]:
    topics = request.topics
    if topics is None or (version == 0 and not topics):
        return [_topic(cls, part_cls, name, cache) for name in sorted(cache.topics)]
    result = []
    by_id = {t.topic_id: t.name for t in cache.topics.values()}
    for wanted in topics:
        name = wanted.name
        if name is None:  # v10+: by topic id
            wanted_id = getattr(wanted, "topic_id", None)
            if wanted_id in by_id:
                result.append(_topic(cls, part_cls, by_id[wanted_id], cache))
            else:
                result.append(
                    build(
                        cls,
                        error_code=ErrorCode.unknown_topic_id,
                        name=None,
                        topic_id=wanted_id or ZERO_UUID,
                        is_internal=False,
                        partitions=(),
                    )
                )
            continue
        result.append(_topic(cls, part_cls, name, cache, created=created))
    return result


MAX_CACHED_RESPONSES = 256


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    """Answer from the encoded-response cache when the cluster has not changed since."""
    cache = ctx.broker.metadata
    topics = request.topics
    wanted = (
        None if topics is None else tuple((t.name, getattr(t, "topic_id", None)) for t in topics)
    )
    created = await _auto_create(ctx, header.api_version, request)
    if created:  # answers that change within milliseconds are not worth caching
        response = _build(ctx, header.api_version, request, created)
        return RawResponse((encode_body(response),), response_header_version(response))
    key = (header.api_version, ctx.listener_name, wanted)
    hit = cache.encoded.get(key)
    if hit is None:
        response = _build(ctx, header.api_version, request, {})
        if len(cache.encoded) >= MAX_CACHED_RESPONSES:
            cache.encoded.clear()
        hit = cache.encoded[key] = (encode_body(response), response_header_version(response))
    body, header_version = hit
    return RawResponse((body,), header_version)


async def _auto_create(ctx: RequestContext, version: int, request: Any) -> dict[str, ErrorCode]:
    """Create requested unknown topics when allowed; name -> the error to answer with."""
    admin = ctx.broker.admin
    topics = request.topics
    if (
        admin is None
        or not topics
        or not ctx.broker.config.get_bool("auto.create.topics.enable")
        or not getattr(request, "allow_auto_topic_creation", True)
    ):
        return {}
    cache = ctx.broker.metadata
    created: dict[str, ErrorCode] = {}
    for wanted in topics:
        name = wanted.name
        if name is None or name in cache.topics or topic_name_error(name) or is_internal(name):
            continue
        try:
            await admin.create_topic(await admin.prepare_topic(name, -1, -1, None, {}))
        except AdminError as exc:
            exists = exc.code == ErrorCode.topic_already_exists
            created[name] = ErrorCode.leader_not_available if exists else exc.code
        else:
            created[name] = ErrorCode.leader_not_available
    return created


def _build(ctx: RequestContext, version: int, request: Any, created: dict[str, ErrorCode]) -> Any:
    cls = response_class(API_KEY, version)
    cache = ctx.broker.metadata
    broker_cls = nested(cls, "MetadataResponseBroker")
    brokers = []
    for info in cache.alive_brokers():
        endpoint = info.endpoint(ctx.listener_name)
        if endpoint is not None:
            brokers.append(
                build(
                    broker_cls,
                    node_id=info.id,
                    host=endpoint.host,
                    port=endpoint.port,
                    rack=info.rack,
                )
            )
    topics = _requested_topics(
        version,
        request,
        nested(cls, "MetadataResponseTopic"),
        nested(cls, "MetadataResponsePartition"),
        cache,
        created=created,
    )
    return build(
        cls,
        throttle_time=timedelta(0),
        brokers=tuple(brokers),
        cluster_id=cache.cluster_id,
        controller_id=cache.controller_id,
        topics=tuple(topics),
        cluster_authorized_operations=AUTHORIZED_OPERATIONS_OMITTED,
    )
