"""The README's test command is the one CI runs."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.S)
    assert len(commands) >= 2, "README must open with the quickstart and the test command"
    test_command = commands[1].strip()
    # CI provides its own virtualenv; the rest of the command must be identical.
    install_and_test = test_command.split("&& ", 2)[-1]
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert install_and_test in ci_lines
    assert "torch==2.13.0" in install_and_test.split("&&")[0]
