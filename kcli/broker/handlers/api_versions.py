"""ApiVersions (18): the API ranges this broker serves, computed from the handler registry.

Quirks (KIP-511, broker_protocol.md §0.4): a version above MAX_VERSION is not an error that
closes the connection; it is answered in the v0 body format with UNSUPPORTED_VERSION and the
full list, so the client can retry with a version both sides know. The response header is
always v0 (kio's classes encode that).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from kcli.broker.handlers.base import RawResponse, RequestContext
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, build, encode_body, nested, response_class

API_KEY = ApiKey.API_VERSIONS
MIN_VERSION = 0
MAX_VERSION = 4

_ENCODED: dict[tuple[object, ...], RawResponse] = {}

# Kafka's ApiVersionsRequest.isValid: client software name and version.
_SOFTWARE = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?")


def _api_list(ctx: RequestContext, version: int) -> tuple[Any, ...]:
    cls = nested(response_class(API_KEY, version), "ApiVersion")
    return tuple(
        cls(api_key=h.api_key, min_version=h.min_version, max_version=h.max_version)
        for h in ctx.broker.handlers.values()
    )


def unsupported_version_response(ctx: RequestContext) -> Any:
    """The v0 answer to an ApiVersions request whose version is too new."""
    return response_class(API_KEY, 0)(
        error_code=ErrorCode.unsupported_version, api_keys=_api_list(ctx, 0)
    )


def _response(ctx: RequestContext, version: int, error: ErrorCode) -> Any:
    return build(
        response_class(API_KEY, version),
        error_code=error,
        api_keys=_api_list(ctx, version),
        throttle_time=timedelta(0),
    )


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    version = header.api_version
    if version >= 3 and not (
        _SOFTWARE.fullmatch(request.client_software_name)
        and _SOFTWARE.fullmatch(request.client_software_version)
    ):
        return _response(ctx, version, ErrorCode.invalid_request)
    # Every connection opens with ApiVersions and the answer never changes: encode it once.
    key = (
        version,
        tuple((h.api_key, h.min_version, h.max_version) for h in ctx.broker.handlers.values()),
    )
    cached = _ENCODED.get(key)
    if cached is None:
        body = encode_body(_response(ctx, version, ErrorCode.none))
        cached = _ENCODED[key] = RawResponse((body,), 0)
    return cached
