"""Sender API keys, checked the same way by the HTTP and gRPC receivers."""

from __future__ import annotations

import hmac
from collections.abc import Collection


def bearer_token(authorization: str) -> str:
    """The token of an `Authorization: Bearer <token>` value ('' when there is none)."""
    return authorization.removeprefix("Bearer ").strip()


def is_known_key(offered: str, keys: Collection[str]) -> bool:
    """Whether `offered` is one of `keys`, compared in constant time."""
    return bool(offered) and any(hmac.compare_digest(offered.encode(), k.encode()) for k in keys)
