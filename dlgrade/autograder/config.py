"""autograder.toml: what an autograder zip grades (edition, problems, mode, time limit, isolation)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

CONFIG_FILE = "autograder.toml"
# Gradescope stops an autograder at its own limit (at most 40 minutes) and then shows
# nothing; ours must end first, with room to write the parts judged so far.
GRADESCOPE_MAX_S = 2400.0
DEFAULT_TIMEOUT_S = 1800.0


class AutograderError(Exception):
    """The autograder cannot be built or run as configured; the message says what to fix."""


@dataclass(frozen=True)
class AutograderConfig:
    assignment: str
    problems: tuple[str, ...] = ()  # empty: every problem
    quick: bool = False  # small data slices: for trying the zip out, not for grading
    timeout_s: float = DEFAULT_TIMEOUT_S  # the whole submission; under Gradescope's own limit
    # Gradescope's containers refuse bubblewrap's namespaces but run us as root: each
    # notebook as an unprivileged uid (dlgrade.engine.isolation).
    isolation: str = "user"

    def to_toml(self) -> str:
        problems = ", ".join(f'"{p}"' for p in self.problems)
        return (
            "# Written by `dlgrade autograder gradescope`; read by run_autograder.\n"
            f'assignment = "{self.assignment}"\n'
            f"problems = [{problems}]  # empty: every problem\n"
            f"quick = {'true' if self.quick else 'false'}\n"
            f"timeout_s = {self.timeout_s:g}\n"
            f'isolation = "{self.isolation}"\n'
        )

    @classmethod
    def load(cls, path: Path) -> AutograderConfig:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            return cls(
                assignment=str(data["assignment"]),
                problems=tuple(str(p) for p in data.get("problems", [])),
                quick=bool(data.get("quick", False)),
                timeout_s=float(data.get("timeout_s", cls.timeout_s)),
                isolation=str(data.get("isolation", cls.isolation)),
            )
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as err:
            raise AutograderError(f"cannot read {path}: {err!r}") from err
