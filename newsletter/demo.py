"""Demo rows for the run command (see newsroom/management/commands/load_demo.py)."""


def load_demo_data() -> None:
    """Idempotent: running it twice changes nothing the second time."""
