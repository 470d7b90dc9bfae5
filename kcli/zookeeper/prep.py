"""Turning write requests into txns (ZooKeeper's PrepRequestProcessor): path and ACL
validation, version checks and the error codes clients expect. Pure functions over a view of
the tree; a multi preps its ops one after another on an overlay of pending changes, so later
ops see earlier ones, and nothing reaches the tree unless every op passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kcli.zookeeper.codes import Code, KeeperError, OpCode
from kcli.zookeeper.datatree import (
    CONTAINER_OWNER,
    SPECIAL_PATHS,
    DataTree,
    is_session_owner,
    parent_of,
)
from kcli.zookeeper.jute import ACL, Id
from kcli.zookeeper.records import (
    CreateRequest,
    DeleteRequest,
    MultiRequest,
    SetACLRequest,
    SetDataRequest,
    WriteOp,
)
from kcli.zookeeper.txn import (
    CheckVersionTxn,
    CloseSessionTxn,
    CreateContainerTxn,
    CreateTxn,
    DeleteTxn,
    ErrorTxn,
    MultiTxn,
    SetACLTxn,
    SetDataTxn,
    SubTxn,
    TxnRecord,
)

_INT_MAX = 2**31 - 1


@dataclass(slots=True)
class ChangeRecord:
    """What prep needs to know of a node, possibly changed by an earlier op of a multi."""

    version: int
    cversion: int
    aversion: int
    ephemeral_owner: int
    child_count: int


class View:
    """The tree as it will be once the ops prepped so far are applied."""

    def __init__(self, tree: DataTree) -> None:
        self.tree = tree
        self.changes: dict[str, ChangeRecord | None] = {}

    def get(self, path: str) -> ChangeRecord | None:
        if path in self.changes:
            return self.changes[path]
        node = self.tree.nodes.get(path)
        if node is None:
            return None
        return ChangeRecord(
            node.version, node.cversion, node.aversion, node.ephemeral_owner, len(node.children)
        )

    def must_get(self, path: str) -> ChangeRecord:
        rec = self.get(path)
        if rec is None:
            raise KeeperError(Code.NONODE, path)
        return rec


# Characters ZooKeeper's PathUtils refuses: controls, C1 controls, surrogates/private use,
# specials. NUL is checked separately.
_INVALID_CHARS = re.compile("[\x01-\x1f\x7f-\x9f\ud800-\uf8ff\ufff0-\uffff]")


def validate_path(path: str, sequential: bool = False) -> None:
    """ZooKeeper's PathUtils.validatePath; failures are BADARGUMENTS."""
    if sequential:
        path += "1"
    if not path or path[0] != "/" or (len(path) > 1 and path.endswith("/")):
        raise KeeperError(Code.BADARGUMENTS, path)
    if len(path) == 1:
        return
    for part in path[1:].split("/"):
        if not part or part in (".", ".."):
            raise KeeperError(Code.BADARGUMENTS, path)
    if "\x00" in path or _INVALID_CHARS.search(path):
        raise KeeperError(Code.BADARGUMENTS, path)


def _next_version(expected: int, current: int, path: str) -> int:
    if expected not in (-1, current):
        raise KeeperError(Code.BADVERSION, path)
    return current + 1 if current < _INT_MAX else -(2**31)


def fixup_acl(path: str, acls: list[ACL], auth_ids: list[Id]) -> tuple[ACL, ...]:
    """Validate ACLs and expand the `auth` scheme to the connection's authenticated ids.
    ACLs are stored and returned, not enforced (world:anyone semantics)."""
    if not acls:
        raise KeeperError(Code.INVALIDACL, path)
    out: list[ACL] = []
    for acl in acls:
        scheme, ident = acl.id.scheme, acl.id.id
        if scheme == "world" and ident == "anyone":
            out.append(acl)
        elif scheme == "auth":
            ids = [i for i in auth_ids if i.scheme != "world"]
            if not ids:
                raise KeeperError(Code.INVALIDACL, path)
            out.extend(ACL(acl.perms, i) for i in ids)
        elif (scheme == "digest" and ":" in ident) or (scheme in ("ip", "sasl", "x509") and ident):
            out.append(acl)
        else:
            raise KeeperError(Code.INVALIDACL, path)
    return tuple(out)


def prep_op(
    view: View, op: int, req: WriteOp, session_id: int, auth_ids: list[Id]
) -> tuple[int, SubTxn]:
    """One create/delete/setData/setACL/check -> (txn type, txn); KeeperError on failure."""
    if isinstance(req, CreateRequest):
        return op, _prep_create(view, op, req, session_id, auth_ids)
    if isinstance(req, DeleteRequest):
        if op == OpCode.DELETE_CONTAINER:  # only the server's container manager sends it
            raise KeeperError(Code.BADARGUMENTS, req.path)
        return op, _prep_delete(view, req)
    if isinstance(req, SetDataRequest):
        validate_path(req.path)
        rec = view.must_get(req.path)
        rec.version = _next_version(req.version, rec.version, req.path)
        view.changes[req.path] = rec
        return op, SetDataTxn(req.path, req.data, rec.version)
    if isinstance(req, SetACLRequest):
        validate_path(req.path)
        acl = fixup_acl(req.path, req.acl, auth_ids)
        rec = view.must_get(req.path)
        rec.aversion = _next_version(req.version, rec.aversion, req.path)
        view.changes[req.path] = rec
        return op, SetACLTxn(req.path, acl, rec.aversion)
    validate_path(req.path)
    rec = view.must_get(req.path)
    _next_version(req.version, rec.version, req.path)
    return op, CheckVersionTxn(req.path, req.version)


def _prep_create(
    view: View, op: int, req: CreateRequest, session_id: int, auth_ids: list[Id]
) -> CreateTxn | CreateContainerTxn:
    if req.flags not in range(7):
        raise KeeperError(Code.BADARGUMENTS, req.path)
    if op == OpCode.CREATE_TTL or req.flags in (5, 6):
        # TTL nodes need ZooKeeper's extendedTypesEnabled, off by default: same answer.
        raise KeeperError(Code.UNIMPLEMENTED, req.path)
    # The op code decides what is created: createContainer makes a container whatever the
    # flags, create/create2 with the CONTAINER flag a plain persistent node (as ZooKeeper).
    container = op == OpCode.CREATE_CONTAINER
    ephemeral = req.flags in (1, 3) and not container
    sequential = req.flags in (2, 3)
    validate_path(req.path, sequential)
    acl = fixup_acl(req.path, req.acl, auth_ids)
    parent_path = parent_of(req.path if not req.path.endswith("/") else req.path + "x")
    parent = view.must_get(parent_path)
    path = req.path
    if sequential:
        path = f"{path}{parent.cversion:010d}"
    validate_path(path)
    if view.get(path) is not None:
        raise KeeperError(Code.NODEEXISTS, path)
    if is_session_owner(parent.ephemeral_owner):
        raise KeeperError(Code.NOCHILDRENFOREPHEMERALS, path)
    parent.cversion += 1
    parent.child_count += 1
    view.changes[parent_path] = parent
    owner = CONTAINER_OWNER if container else session_id if ephemeral else 0
    view.changes[path] = ChangeRecord(0, 0, 0, owner, 0)
    if container:
        return CreateContainerTxn(path, req.data, acl, parent.cversion)
    return CreateTxn(path, req.data, acl, ephemeral, parent.cversion)


def _prep_delete(view: View, req: DeleteRequest) -> DeleteTxn:
    path = req.path
    if "/" not in path or "\x00" in path or path in SPECIAL_PATHS:
        raise KeeperError(Code.BADARGUMENTS, path)
    parent_path = parent_of(path)
    parent = view.must_get(parent_path)
    rec = view.must_get(path)
    _next_version(req.version, rec.version, path)
    if rec.child_count > 0:
        raise KeeperError(Code.NOTEMPTY, path)
    parent.child_count -= 1
    view.changes[parent_path] = parent
    view.changes[path] = None
    return DeleteTxn(path)


def prep_request(
    tree: DataTree, op: int, req: WriteOp | MultiRequest, session_id: int, auth_ids: list[Id]
) -> tuple[int, TxnRecord]:
    """A write request -> the txn to log and apply. Failures become ErrorTxns (they are
    logged too, as ZooKeeper does, so zxids match)."""
    view = View(tree)
    if isinstance(req, MultiRequest):
        subs: list[tuple[int, SubTxn]] = []
        failed = False
        for sub_op, sub_req in req.ops:
            if failed:
                subs.append((OpCode.ERROR, ErrorTxn(Code.RUNTIMEINCONSISTENCY)))
                continue
            try:
                subs.append(prep_op(view, sub_op, sub_req, session_id, auth_ids))
            except KeeperError as exc:
                failed = True
                subs.append((OpCode.ERROR, ErrorTxn(exc.code)))
        return OpCode.MULTI, MultiTxn(tuple(subs))
    try:
        return prep_op(view, op, req, session_id, auth_ids)
    except KeeperError as exc:
        return OpCode.ERROR, ErrorTxn(exc.code)


def empty_containers(tree: DataTree) -> list[DeleteTxn]:
    """ContainerManager's candidates: containers that had children and have none now."""
    out = []
    for path in sorted(tree.containers):
        node = tree.nodes.get(path)
        if node is not None and not node.children and node.cversion > 0:
            out.append(DeleteTxn(path))
    return out


def prep_close_session(tree: DataTree, session_id: int) -> CloseSessionTxn:
    return CloseSessionTxn(tuple(sorted(tree.ephemerals.get(session_id, ()))))
