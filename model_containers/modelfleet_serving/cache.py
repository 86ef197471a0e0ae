"""An optional response cache: LRU by content type and body hash, bounded, with a TTL."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict


class ResponseCache:
    def __init__(self, max_entries: int, max_bytes: int, ttl_seconds: float):
        self.max_entries, self.max_bytes, self.ttl = max_entries, max_bytes, ttl_seconds
        self._items: OrderedDict[bytes, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0

    @staticmethod
    def key(content_type: str, accept: str, body: bytes) -> bytes:
        digest = hashlib.blake2b(f"{content_type}\n{accept}\n".encode(), digest_size=16)
        digest.update(body)
        return digest.digest()

    def get(self, key: bytes) -> bytes | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, value = item
        if expires < time.monotonic():
            self._drop(key)
            return None
        self._items.move_to_end(key)
        return value

    def put(self, key: bytes, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        if key in self._items:
            self._drop(key)
        self._items[key] = (time.monotonic() + self.ttl, value)
        self._bytes += len(value)
        while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
            self._drop(next(iter(self._items)))

    def _drop(self, key: bytes) -> None:
        _, value = self._items.pop(key)
        self._bytes -= len(value)

    def __len__(self) -> int:
        return len(self._items)
