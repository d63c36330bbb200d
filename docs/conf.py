"""Sphinx configuration of bandster's documentation: ``make docs`` (warnings are errors).

Why Sphinx (with MyST and numpydoc) rather than MkDocs: autodoc imports the real modules, so the API reference
is what users import and a renamed or broken object fails the build; numpydoc is the reference renderer of the
docstring style the code uses; MyST lets the Markdown pages (and the design notes written as Markdown) in as they
are, with Sphinx cross-references; ``-W`` turns every broken reference, missing page or malformed docstring into
a failed build; and it builds offline with the bundled theme (no CDN, no network).
"""

from __future__ import annotations

import os
import sys

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ["COLUMNS"] = "100"  # the width argparse formats the command's help with

from bandster.__version__ import __version__  # noqa: E402

project = "bandster"
author = "the bandster authors"
copyright = "bandster authors; HpBandSter's API (BSD-3-Clause)"
version = release = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "numpydoc",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "README.md"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_default_options = {"members": True, "show-inheritance": True, "member-order": "bysource"}
autodoc_typehints = "none"  # the numpydoc docstrings give the types
autodoc_mock_imports: list[str] = []
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_theme_options = {"description": "Distributed Hyperband and BOHB, HpBandSter's API, maintained",
                      "fixed_sidebar": True, "page_width": "1100px", "sidebar_width": "230px"}
html_static_path: list[str] = []
html_title = f"bandster {version}"
html_show_sourcelink = False


class BandsterCli(SphinxDirective):
    """``{bandster-cli}``: the ``--help`` text of the ``bandster`` command and of every subcommand."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from bandster.cli import build_parser

        parser = build_parser()
        out: list[nodes.Node] = [nodes.literal_block(text=parser.format_help().rstrip())]
        choices = {}
        for action in parser._actions:  # argparse keeps the subcommands in its private _SubParsersAction
            if getattr(action, "choices", None) and isinstance(action.choices, dict):
                choices.update(action.choices)
        for name, sub in choices.items():
            out.append(nodes.rubric(text=f"bandster {name}"))
            out.append(nodes.literal_block(text=sub.format_help().rstrip()))
        return out


def setup(app):  # noqa: ANN001, ANN201 - Sphinx's extension hook
    app.add_directive("bandster-cli", BandsterCli)
    return {"parallel_read_safe": True}
