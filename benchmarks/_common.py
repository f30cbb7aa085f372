"""What the benchmark scripts share: where their data is and where their JSON goes.

Not a benchmark. The scripts are run as ``python benchmarks/bench_*.py``
(from any directory), which puts this folder first on ``sys.path``, so they
import it as ``_common``.

* Data: :func:`data_root` is the shared data folder (``mnist/``,
  ``fashion_mnist/``, ``adbench_classical/``, ...): the ``SKFF_DATA``
  environment variable if set, else ``../shared/data`` beside the checkout.
* Results: :func:`add_output_arguments` gives a script ``--out-dir``
  (default ``benchmarks/results``, the folder the documentation's tables are
  built from) and ``--tag``; :func:`results_path` names the file
  ``STEM.json`` or ``STEM_TAG.json``.
"""

import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def data_root():
    """The shared data folder: ``$SKFF_DATA``, else ``../shared/data`` beside the checkout."""
    return pathlib.Path(os.environ.get("SKFF_DATA") or ROOT.parent / "shared" / "data")


def add_output_arguments(parser):
    """Add ``--out-dir`` and ``--tag`` (see :func:`results_path`) to an ``argparse`` parser."""
    parser.add_argument("--out-dir", default=None, metavar="DIR",
                        help="folder of the JSON file (default: benchmarks/results, whose files the "
                             "documentation's tables are built from; use another one for smoke runs)")
    parser.add_argument("--tag", default="", metavar="NAME", help="suffix of the JSON file name: STEM_NAME.json")


def results_path(args, stem):
    """``out_dir / "STEM.json"``, or ``"STEM_TAG.json"`` with ``--tag`` (a leading ``_`` is dropped).

    Creates the folder.
    """
    out_dir = pathlib.Path(args.out_dir) if args.out_dir else RESULTS
    out_dir.mkdir(parents=True, exist_ok=True)
    tag = args.tag.removeprefix("_")
    return out_dir / (f"{stem}_{tag}.json" if tag else f"{stem}.json")
