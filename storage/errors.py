"""Storage's own exceptions, so that callers never need to know SQLAlchemy."""


class Conflict(Exception):
    """Another transaction changed the same client meanwhile: handle the update again."""


class Unavailable(Exception):
    """The database did not answer (down, locked for too long, the connection lost)."""
