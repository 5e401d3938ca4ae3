"""`quarry --help` lists each command with its summary as one reflowed paragraph."""

from __future__ import annotations

import typer

from cli.main import app


def commands(group: typer.Typer) -> list[typer.models.CommandInfo]:
    found = list(group.registered_commands)
    for sub in group.registered_groups:
        assert sub.typer_instance is not None
        found += commands(sub.typer_instance)
    return found


def test_every_command_has_help_whose_paragraphs_are_single_lines() -> None:
    infos = commands(app)
    assert len(infos) > 20
    for info in infos:
        assert info.help, f"{info.callback} has no help"
        for paragraph in info.help.split("\n\n"):
            assert "\n" not in paragraph, (info.callback, paragraph)
