"""``python -m skff`` runs the quickstart comparison."""

import importlib.util
import pathlib
import sys


def _main():
    # The quickstart lives in examples/ so that it reads as a plain script;
    # fall back to a short message when the package was installed without it.
    script = pathlib.Path(__file__).resolve().parent.parent / "examples" / "quickstart.py"
    if not script.exists():
        sys.exit("examples/quickstart.py is not available in this installation.")
    spec = importlib.util.spec_from_file_location("skff_quickstart", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()


if __name__ == "__main__":
    _main()
