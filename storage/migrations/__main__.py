"""Write a new migration from the models: `python -m storage.migrations "what changed"`."""

import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import Script, ScriptDirectory
from sqlalchemy import create_engine

from storage.migrate import MIGRATIONS, alembic_config, upgrade_database


def main(message: str) -> None:
    """Compare the models with a fresh SQLite database at head; write the difference."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{Path(folder) / 'schema.db'}")
        if head is not None:
            upgrade_database(engine)
        with engine.begin() as connection:
            script = command.revision(
                alembic_config(connection),
                message,
                autogenerate=True,
                rev_id=f"{int(head or 0) + 1:04d}",
            )
        engine.dispose()
    assert isinstance(script, Script)
    ruff = [sys.executable, "-m", "ruff"]
    subprocess.run([*ruff, "format", "--quiet", script.path], check=True)
    subprocess.run([*ruff, "check", "--fix", "--quiet", script.path], check=False)
    print(f"review it before committing: {script.path}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit('usage: python -m storage.migrations "what changed"')
    main(sys.argv[1])
