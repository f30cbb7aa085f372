"""Sphinx configuration of the skff documentation.

Build with ``sphinx-build -W -b html docs docs/_build/html`` from the
repository root (``pip install -e ".[docs]"`` first). The build

* imports ``skff`` from this checkout (not from wherever it is installed);
* generates the API pages (``docs/generated/``) with autosummary and numpydoc;
* runs the gallery scripts ``examples/plot_*.py`` with sphinx-gallery into
  ``docs/auto_examples/`` (``examples/quickstart.py`` is not part of the
  gallery; other scripts would be shown without being run);
* writes the benchmark tables from ``benchmarks/results/*.json``
  (``docs/_ext/skff_benchmarks.py``).

Two entries of the table of contents are optional: ``ecosystem`` (present
once ``docs/ecosystem.md`` exists) and the gallery (present once
``examples/README.txt`` exists). A missing one is left out of the table of
contents instead of failing the build.
"""

import os
import pathlib
import re
import sys

DOCS = pathlib.Path(__file__).resolve().parent
ROOT = DOCS.parent
EXAMPLES = ROOT / "examples"

# Before torch is imported: spinning OpenMP threads are very slow on small
# shared machines, and gallery figures are drawn without a display.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("MPLBACKEND", "Agg")

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))

import skff  # noqa: E402
from sphinx.errors import ConfigError  # noqa: E402

# -- Project -------------------------------------------------------------------
project = "skff"
author = "the skff developers"
copyright = "the skff developers"
release = skff.__version__
version = release

# -- General -------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "skff_benchmarks",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path = ["_templates"]
exclude_patterns = ["_build", "generated/benchmark_tables.md"]
root_doc = "index"

myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

autosummary_generate = True
autodoc_typehints = "none"
autodoc_member_order = "groupwise"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- Optional pages ------------------------------------------------------------
GALLERY_HEADERS = ("README.txt", "README.rst", "GALLERY_HEADER.rst")
gallery_enabled = any((EXAMPLES / name).is_file() for name in GALLERY_HEADERS)
if not gallery_enabled and sorted(EXAMPLES.glob("plot_*.py")):
    raise ConfigError(
        "examples/ has plot_*.py gallery scripts but no examples/README.txt: "
        "sphinx-gallery needs that file as the gallery's header."
    )
ecosystem_present = any((DOCS / f"ecosystem{suffix}").is_file() for suffix in source_suffix)
optional_pages = {"ecosystem": ecosystem_present, "auto_examples/index": gallery_enabled}

if gallery_enabled:
    extensions.append("sphinx_gallery.gen_gallery")
    sphinx_gallery_conf = {
        "examples_dirs": "../examples",
        "gallery_dirs": "auto_examples",
        # Run only the gallery scripts (plot_*.py). The quickstart is a
        # console script documented in the README, not a gallery page.
        "filename_pattern": r"/plot_",
        "ignore_pattern": r"(__init__|quickstart)\.py",
        "backreferences_dir": "generated/backreferences",
        "doc_module": ("skff",),
        "image_scrapers": ("matplotlib",),
        "matplotlib_animations": False,
        "remove_config_comments": True,
        "download_all_examples": False,
    }

# Lets the class template add "Examples using ..." only when there is a gallery.
autosummary_context = {"gallery_enabled": gallery_enabled}


def _drop_absent_pages(app, docname, source):
    """Remove the table-of-contents lines of optional pages that do not exist."""
    if docname != root_doc:
        return
    for page, present in optional_pages.items():
        if not present:
            source[0] = re.sub(rf"^{re.escape(page)}[ \t]*\n", "", source[0], flags=re.M)


# Methods inherited from scikit-learn (score, get_params, set_output, ...)
# carry docstrings that link into scikit-learn's own documentation, which
# this build cannot resolve; their links become plain text.
_SKLEARN_LINK = re.compile(r":(?:ref|term|doc):`([^`<]*?)\s*(?:<[^`>]*>)?`", flags=re.S)


def _link_text(match):
    text = match.group(1)
    return "scikit-learn's gallery" if text.startswith("sphx_glr_") else text


def _unlink_sklearn_docstrings(app, what, name, obj, options, lines):
    if (getattr(obj, "__module__", None) or "").startswith("sklearn"):
        lines[:] = _SKLEARN_LINK.sub(_link_text, "\n".join(lines)).split("\n")


def setup(app):
    app.connect("source-read", _drop_absent_pages)
    app.connect("autodoc-process-docstring", _unlink_sklearn_docstrings)


# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skff {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 5,
}
# The top-level pages have no sub-pages, so no left sidebar; the API
# reference and the gallery keep the theme's section navigation.
html_sidebars = {
    page: []
    for page in ("index", "install", "algorithms", "user_guide", "choosing", "scff", "ecosystem",
                 "benchmarks", "design")
}
