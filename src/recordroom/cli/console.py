"""The CLI's terminal: one place for its output streams and its refusals."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

# Soft wrap: paths, tokens and keys are never broken across lines by the terminal width.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def fail(message: str, problems: list[str] | None = None, code: int = 1) -> NoReturn:
    """Print `error: message` (and each problem on its own line) and exit with `code`."""
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    for problem in problems or []:
        err.print(f"  - {problem}", highlight=False)
    raise typer.Exit(code)
