"""Log types: the one encoding every binding shares (bindings/LOG_TYPES.md).

A log type is what the host says an entry is: an ``int`` (1..``MAX_LOG_TYPE_NUMBER``), carried as
the C ABI's entry type with the data unchanged, or a ``str`` (1..``MAX_LOG_TYPE_BYTES``
bytes of UTF-8, as in Kommander's ``ReplicateLogs(partition, "OrderPlaced", payload)``),
carried as ``0x80000000 | FNV-1a-32(utf8)`` in the entry type and ``[len][utf8]`` at the
front of the payload. Entries written by a C, .NET or Java node read back here with the
same type and data, and the other way round.
"""

from __future__ import annotations

from typing import Union

from ._errors import InvalidArgumentError

__all__ = ["LogType", "MAX_LOG_TYPE_NUMBER", "MAX_LOG_TYPE_BYTES", "encode_log_type", "decode_log_type"]

LogType = Union[int, str]
"""A log type: a number or a string."""

MAX_LOG_TYPE_NUMBER = 0x7FFF_FFFF
"""The largest number type; higher entry types mark strings."""

MAX_LOG_TYPE_BYTES = 255
"""The longest string type, in UTF-8 bytes: its length travels in one byte."""

_STRING_FLAG = 0x8000_0000
_U32 = 0xFFFF_FFFF

BytesLike = Union[bytes, bytearray, memoryview]


def _fnv1a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & _U32
    return h


def encode_log_type(type: LogType, data: BytesLike) -> tuple[int, BytesLike]:
    """The C ABI's ``(entry type, payload)`` for ``data`` of log ``type``. A number's
    payload is ``data`` itself. Raises TypeError for a type that is neither ``int`` nor
    ``str``, and InvalidArgumentError (a ValueError) for 0, numbers above ``MAX_LOG_TYPE_NUMBER``,
    empty strings, strings longer than ``MAX_LOG_TYPE_BYTES`` in UTF-8 and lone surrogates."""
    # bool is an int subclass, but True as a type is almost certainly a mistake.
    if isinstance(type, bool) or not isinstance(type, (int, str)):
        raise TypeError(f"type must be an int or a str, not {type.__class__.__name__}")
    if isinstance(type, int):
        if not 1 <= type <= MAX_LOG_TYPE_NUMBER:
            raise InvalidArgumentError(f"a number type must be in [1, {MAX_LOG_TYPE_NUMBER}], got {type}")
        return type, data
    try:
        utf8 = type.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidArgumentError(f"type {type!r} is not well-formed Unicode: {e.reason}") from None
    if not 1 <= len(utf8) <= MAX_LOG_TYPE_BYTES:
        raise InvalidArgumentError(
            f"a string type must be 1 to {MAX_LOG_TYPE_BYTES} UTF-8 bytes, got {len(utf8)}")
    return _STRING_FLAG | _fnv1a(utf8), bytes((len(utf8),)) + utf8 + bytes(data)


def decode_log_type(entry_type: int, payload: bytes) -> tuple[LogType, bytes]:
    """The log type and data of a delivered entry. Never fails and never drops bytes: an
    entry whose payload is not a valid frame of its flagged entry type keeps the entry
    type as its number (above ``MAX_LOG_TYPE_NUMBER`` only for entries written with such a type
    through the raw C ABI) and its whole payload."""
    if entry_type & _STRING_FLAG and payload:
        n = payload[0]
        if 0 < n and 1 + n <= len(payload):
            utf8 = payload[1:1 + n]
            if _STRING_FLAG | _fnv1a(utf8) == entry_type:
                try:
                    return utf8.decode("utf-8"), payload[1 + n:]
                except UnicodeDecodeError:
                    pass  # not a frame: a number, with the whole payload
    return entry_type, payload
