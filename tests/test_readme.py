"""The README's examples, run: each `$ celery-topology ...` in a console block prints what the README shows."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

from support import BIN, ROOT

README = (ROOT / "README.md").read_text()


def console_examples() -> list[tuple[str, str]]:
    """(command, expected output) for every `$ ` line of every console block."""
    examples = []
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = chunk.partition("\n")
            examples.append((command, output))
    return examples


def yaml_files() -> dict[str, str]:
    """The yaml blocks that start with `# NAME.yaml`: files the console examples use."""
    blocks = re.findall(r"```yaml\n# (\S+\.yaml)\n(.*?)```", README, re.S)
    return {name: f"# {name}\n{body}" for name, body in blocks}


def test_console_examples_print_what_the_readme_shows(tmp_path: Path) -> None:
    shutil.copy(ROOT / "topology.yaml", tmp_path)
    for name, text in yaml_files().items():
        (tmp_path / name).write_text(text)
    examples = console_examples()
    assert len(examples) >= 2
    for command, expected in examples:
        argv = shlex.split(command)
        assert argv[0] == ".venv/bin/celery-topology"
        result = subprocess.run(
            [str(BIN / "celery-topology"), *argv[1:]], capture_output=True, text=True, cwd=tmp_path, env={}
        )
        assert result.stdout == expected, command
        assert "Traceback" not in result.stderr


def test_shipped_topology_block_is_the_shipped_file() -> None:
    """The format-by-example block is topology.yaml itself, word for word apart from comments."""

    def strip(text: str) -> list[str]:
        return [line.split(" #")[0].rstrip() for line in text.splitlines() if line.strip() and not line.startswith("#")]

    block = re.search(r"```yaml\n(# yaml-language-server.*?)```", README, re.S)
    assert block is not None
    assert strip(block.group(1)) == strip((ROOT / "topology.yaml").read_text())


def shell_lines() -> list[str]:
    """Every command line of the README's sh and console blocks (continuations and comments dropped)."""
    lines = [line for block in re.findall(r"```sh\n(.*?)```", README, re.S) for line in block.splitlines()]
    lines += [command for command, _ in console_examples()]
    return [line for line in lines if line and not line.startswith(("#", " ")) and not line.endswith("\\")]


def test_readme_commands_use_the_virtualenv() -> None:
    """A newcomer without an activated venv can paste every line: the tools are the venv's."""
    tools = ("celery-topology", "celery", "python", "pytest", "pip", "ruff", "mypy")
    for line in shell_lines():
        words = shlex.split(line, comments=True)
        starts = [0] + [i + 1 for i, word in enumerate(words) if word in ("&&", "|", ";")]
        for i in starts:
            while i < len(words) and re.fullmatch(r"[A-Z_]+=.*", words[i]):  # VAR=value before the command
                i += 1
            assert i >= len(words) or words[i] not in tools, f"README runs {words[i]} outside the venv: {line}"


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run runs the README's test command, with its own venv in place of the developer's .venv."""
    (test_command,) = re.findall(r"Run the tests.*?```sh\n(.*?)\n```", README, re.S)
    assert test_command.startswith(".venv/bin/pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command.replace(".venv/", '"$VENV"/') in ci.splitlines()
    assert "rm -rf .venv" not in ci and "VENV=.ci-venv" in ci
