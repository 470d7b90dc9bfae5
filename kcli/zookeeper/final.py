"""Reply bodies (ZooKeeper's FinalRequestProcessor): reads answered from the tree, and the
responses of applied write txns, including the per-op results of a multi."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kcli.zookeeper.codes import Code, KeeperError, OpCode
from kcli.zookeeper.datatree import TxnResult
from kcli.zookeeper.jute import JuteWriter, pack_multi_header
from kcli.zookeeper.records import (
    PathModeRequest,
    PathRequest,
    PathWatchRequest,
    Request,
    pack_acls,
    pack_children,
    pack_data,
    pack_path,
)

if TYPE_CHECKING:
    from kcli.zookeeper.connection import ServerCnxn
    from kcli.zookeeper.server import ZooKeeperServer


def _check_path(path: str) -> None:
    if "\x00" in path:
        raise KeeperError(Code.BADARGUMENTS, path)


def answer_read(server: ZooKeeperServer, cnxn: ServerCnxn, op: int, req: Request) -> bytes:
    """The body of a read reply; KeeperError for the error codes."""
    if isinstance(req, PathWatchRequest):
        _check_path(req.path)
        return _watchable_read(server, cnxn, op, req)
    if isinstance(req, PathRequest):
        _check_path(req.path)
        return _path_read(server, cnxn, op, req.path)
    if isinstance(req, PathModeRequest):
        _check_path(req.path)
        return _watch_admin(server, cnxn, op, req)
    if op == OpCode.WHO_AM_I:
        w = JuteWriter().int32(len(cnxn.auth_ids))
        for ident in cnxn.auth_ids:
            w.ustring(ident.scheme).ustring(ident.id)
        return w.to_bytes()
    raise KeeperError(Code.UNIMPLEMENTED)


def _watchable_read(
    server: ZooKeeperServer, cnxn: ServerCnxn, op: int, req: PathWatchRequest
) -> bytes:
    """exists / getData / getChildren(2), arming a one-shot watch when asked."""
    tree, path = server.db.tree, req.path
    if op == OpCode.EXISTS:
        if req.watch:
            tree.add_data_watch(path, cnxn)  # also arms on a missing node
        return tree.node_or_raise(path).stat()
    node = tree.node_or_raise(path)
    if op == OpCode.GET_DATA:
        if req.watch:
            tree.add_data_watch(path, cnxn)
        return pack_data(node.data, node.stat())
    if req.watch:
        tree.add_child_watch(path, cnxn)
    children = pack_children(list(node.children))
    return children + node.stat() if op == OpCode.GET_CHILDREN2 else children


def _path_read(server: ZooKeeperServer, cnxn: ServerCnxn, op: int, path: str) -> bytes:
    """sync / getACL / getAllChildrenNumber / getEphemerals."""
    tree = server.db.tree
    if op == OpCode.SYNC:
        return pack_path(path)
    if op == OpCode.GET_ACL:
        node = tree.node_or_raise(path)
        return pack_acls(node.acl, node.stat())
    if op == OpCode.GET_ALL_CHILDREN_NUMBER:
        tree.node_or_raise(path)
        prefix = path.rstrip("/") + "/"
        count = sum(1 for p in tree.nodes if p != path and p.startswith(prefix))
        return JuteWriter().int32(count).to_bytes()
    mine = sorted(p for p in tree.ephemerals.get(cnxn.session_id, ()) if p.startswith(path))
    return JuteWriter().strings(mine).to_bytes()


def _watch_admin(server: ZooKeeperServer, cnxn: ServerCnxn, op: int, req: PathModeRequest) -> bytes:
    """addWatch (persistent watches), removeWatches and checkWatches."""
    tree = server.db.tree
    if op == OpCode.ADD_WATCH:
        if req.mode not in (0, 1):
            raise KeeperError(Code.BADARGUMENTS, req.path)
        tree.add_watch(req.path, cnxn, req.mode)
        return JuteWriter().int32(0).to_bytes()  # ErrorResponse(0), as ZooKeeper
    if req.mode not in range(1, 6):
        raise KeeperError(Code.BADARGUMENTS, req.path)
    if not tree.remove_watches(req.path, cnxn, req.mode, remove=op == OpCode.REMOVE_WATCHES):
        raise KeeperError(Code.NOWATCHER, req.path)
    return b""


def _result_body(op: int, res: TxnResult) -> bytes:
    if op == OpCode.CREATE:
        return pack_path(res.path)
    if op in (OpCode.CREATE2, OpCode.CREATE_CONTAINER):
        return pack_path(res.path) + (res.stat or b"")
    if op in (OpCode.SET_DATA, OpCode.SET_ACL):
        return res.stat or b""
    return b""  # delete, check


def write_response(op: int, res: TxnResult) -> tuple[int, bytes]:
    """(ReplyHeader.err, body) for an applied write."""
    if op == OpCode.MULTI:
        out = bytearray()
        for sub in res.multi:
            if sub.type == OpCode.ERROR or sub.err:
                out += pack_multi_header(-1, False, sub.err)
                out += JuteWriter().int32(sub.err).to_bytes()
            else:
                out += pack_multi_header(sub.type, False, 0)
                out += _result_body(sub.type, sub)
        out += pack_multi_header(-1, True, -1)
        return 0, bytes(out)  # a failed multi still replies OK; the results carry errors
    if res.err:
        return res.err, b""
    return 0, _result_body(op, res)
