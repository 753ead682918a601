"""Parsing: front matter, step fences found by markdown-it-py, info strings."""

from __future__ import annotations

import pytest

from drctl.runbook.errors import RunbookParseError
from drctl.runbook.params import render
from drctl.runbook.parse import parse_text
from tests.drctl.runbook.conftest import HEADER

TEXT = (
    HEADER.format(id="demo")
    + """
Prose with `inline code` and an example that is not a step:

```bash
drctl store verify not-a-step
```

- a list item holding a step:

  ```run id=act budget=2m rollback=undo requires=pre needs=aws-cli,s3 expect=0,1
  echo {{ trail }}
  ```

```rollback id=undo budget=30s reason='a b'
true
```
"""
)


def test_steps_are_fences_with_a_kind_in_file_order() -> None:
    book = parse_text(TEXT)
    assert [s.id for s in book.steps] == ["act", "undo"]
    act = book.steps[0]
    assert (act.kind, act.budget_seconds, act.rollback) == ("run", 120.0, "undo")
    assert (act.requires, act.needs, act.expect) == (("pre",), ("aws-cli", "s3"), (0, 1))
    assert (
        act.line
        == TEXT.splitlines().index(
            "  ```run id=act budget=2m rollback=undo requires=pre needs=aws-cli,s3 expect=0,1"
        )
        + 1
    )
    assert book.steps[1].reason == "a b"
    assert book.front.last_exercised is not None and book.front.rto_seconds == 3600


def test_params_are_inserted_shell_quoted() -> None:
    assert render("echo {{ trail }}", {"trail": "a b; rm -rf /"}) == "echo 'a b; rm -rf /'"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter", "must start with a '---'"),
        ("---\nid: x\n", "never closed"),
        ("---\n[1, 2]\n---\n", "YAML mapping"),
        (HEADER.format(id="demo") + "```run id=x budget=5\ntrue\n```\n", "not a duration"),
        (HEADER.format(id="demo") + "```run id=x budget=5s oops\ntrue\n```\n", "key=value"),
        (HEADER.format(id="demo") + "```check id=x budget=5s colour=red\ntrue\n```\n", "colour"),
    ],
)
def test_bad_input_names_the_problem(text: str, message: str) -> None:
    with pytest.raises(RunbookParseError, match=message):
        parse_text(text)
