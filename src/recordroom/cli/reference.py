"""The CLI reference (docs/cli.md), generated from the commands themselves."""

from __future__ import annotations

from typing import Any

import typer.main


def _is_group(cmd: Any) -> bool:
    return hasattr(cmd, "commands")


def _walk(cmd: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    found = [(path, cmd)]
    if _is_group(cmd):
        for name in sorted(cmd.commands):
            found += _walk(cmd.commands[name], [*path, name])
    return found


def markdown() -> str:
    from .app import app

    root = typer.main.get_command(app)
    lines = [
        "# `recordroom` command reference",
        "",
        "Generated from the commands: `python -m recordroom.cli.reference > docs/cli.md`;",
        "a test fails when this file and the commands disagree.",
        "",
    ]
    for path, cmd in _walk(root, ["recordroom"])[1:]:
        if _is_group(cmd):
            lines += [f"## `{' '.join(path)}`", "", (cmd.help or "").strip(), ""]
            continue
        usage = " ".join(cmd.collect_usage_pieces(cmd.context_class(cmd)))
        lines += [f"### `{' '.join(path)}`", "", (cmd.help or "").strip(), ""]
        lines += ["```", f"{' '.join(path)} {usage}".rstrip(), "```", ""]
        params = [p for p in cmd.params if p.param_type_name == "option" and p.help]
        for p in params:
            flags = ", ".join(f"`{o}`" for o in p.opts)
            default = ""
            if p.default not in (None, False, "", ()) and not p.required:
                default = f" (default: `{p.default}`)"
            lines.append(f"- {flags}: {p.help}{default}")
        if params:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
