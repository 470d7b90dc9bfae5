"""Sessions: ids, passwords and the tick-based expirer (ZooKeeper's SessionTrackerImpl and
ExpiryQueue). Pure: the caller passes `now` in milliseconds from its clock.

Expiry works in tickTime buckets: touching a session moves it to the bucket
`roundUp(now + timeout)`; every tick the expirer takes the buckets that are due. A session is
therefore expired between `timeout` and `timeout + tickTime` after its client last spoke.
"""

from __future__ import annotations

from dataclasses import dataclass

_MASK48 = (1 << 48) - 1
_MASK64 = (1 << 64) - 1
_SUPER_SECRET = 0xB3415C00
_MULTIPLIER = 0x5DEECE66D


def session_password(session_id: int) -> bytes:
    """16 bytes of java.util.Random(sessionId ^ superSecret).nextBytes: the password
    ZooKeeper derives, so a session outlives a restart without storing secrets."""
    seed = ((session_id ^ _SUPER_SECRET) ^ _MULTIPLIER) & _MASK48
    out = bytearray()
    while len(out) < 16:
        seed = (seed * _MULTIPLIER + 0xB) & _MASK48
        rnd = seed >> 16  # next(32)
        for _ in range(min(4, 16 - len(out))):
            out.append(rnd & 0xFF)
            rnd >>= 8
    return bytes(out)


def to_signed64(v: int) -> int:
    v &= _MASK64
    return v - (1 << 64) if v >= 1 << 63 else v


def first_session_id(server_id: int, now_ms: int) -> int:
    """Time in the middle bits, server id in the top byte, as ZooKeeper does."""
    return to_signed64((((now_ms << 24) & _MASK64) >> 8) | (server_id << 56))


@dataclass(slots=True)
class Session:
    session_id: int
    timeout: int
    expire_time: int = 0
    closing: bool = False


class SessionTracker:
    def __init__(self, tick_time: int, now_ms: int, server_id: int = 1) -> None:
        self.tick_time = tick_time
        self.sessions: dict[int, Session] = {}
        self._buckets: dict[int, set[int]] = {}
        self._next_expiration = self._round(now_ms)
        self._next_id = first_session_id(server_id, now_ms)

    def _round(self, t: int) -> int:
        return (t // self.tick_time + 1) * self.tick_time

    def next_session_id(self) -> int:
        while True:
            sid = self._next_id
            self._next_id = to_signed64(self._next_id + 1)
            if sid != 0 and sid not in self.sessions:
                return sid

    def add(self, session_id: int, timeout: int, now_ms: int) -> Session:
        session = self.sessions.get(session_id)
        if session is None:
            session = Session(session_id, timeout)
            self.sessions[session_id] = session
        session.timeout = timeout
        session.closing = False
        self.touch(session_id, now_ms)
        return session

    def touch(self, session_id: int, now_ms: int) -> bool:
        """Push the session's expiry out; False if it is unknown or being closed."""
        session = self.sessions.get(session_id)
        if session is None or session.closing:
            return False
        new_time = self._round(now_ms + session.timeout)
        if new_time != session.expire_time:
            old = self._buckets.get(session.expire_time)
            if old is not None:
                old.discard(session_id)
                if not old:
                    del self._buckets[session.expire_time]
            self._buckets.setdefault(new_time, set()).add(session_id)
            session.expire_time = new_time
        return True

    def set_closing(self, session_id: int) -> None:
        session = self.sessions.get(session_id)
        if session is not None:
            session.closing = True

    def remove(self, session_id: int) -> None:
        session = self.sessions.pop(session_id, None)
        if session is not None:
            bucket = self._buckets.get(session.expire_time)
            if bucket is not None:
                bucket.discard(session_id)
                if not bucket:
                    del self._buckets[session.expire_time]

    def due(self, now_ms: int) -> list[int]:
        """Sessions whose bucket time has come; they are marked closing (the caller logs
        the closeSession txn and then calls `remove`)."""
        expired: list[int] = []
        while self._next_expiration <= now_ms:
            for sid in sorted(self._buckets.pop(self._next_expiration, ())):
                session = self.sessions.get(sid)
                if session is not None and not session.closing:
                    session.closing = True
                    expired.append(sid)
            self._next_expiration += self.tick_time
        return expired

    def next_expiration(self) -> int:
        return self._next_expiration
