"""Callback data, the one codec: `space:value`, where value may be `action:ref`.

Buttons carry ids, never labels. Telegram takes 1-64 bytes; a button that would not fit is a
bug, caught when it is made rather than when Telegram refuses the whole message.
"""

LIMIT = 64  # bytes of UTF-8


def pack(space: str, *parts: object) -> str:
    """The data of a button: its namespace, then its parts."""
    data = ":".join((space, *(str(part) for part in parts)))
    if not 1 <= len(data.encode()) <= LIMIT:
        raise ValueError(f"callback data of {len(data.encode())} bytes: {space}:...")
    return data


def unpack(data: str) -> tuple[str, str]:
    """(namespace, the rest) of what a button sent back; the rest is "" when there is none."""
    space, _sep, value = (data or "").partition(":")
    return space, value


def unpack_action(data: str) -> tuple[str, str, str]:
    """(namespace, action, reference) of `space:action:ref`."""
    space, value = unpack(data)
    action, _sep, ref = value.partition(":")
    return space, action, ref
