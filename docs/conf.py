"""Sphinx configuration for zhiyuan (志愿); see STYLE.md §5.

Set ``OFFLINE=1`` (as ``make docs`` and CI do) to build without network: intersphinx is then off
and references to stdlib and third-party types are ignored instead of failing ``-n -W``.
"""

from __future__ import annotations

import os

import zhiyuan

OFFLINE = bool(os.environ.get("OFFLINE"))

project = "zhiyuan"
author = "zhiyuan contributors"
copyright = "2026, zhiyuan contributors"
version = release = zhiyuan.__version__
language = "en"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
]
if not OFFLINE:
    extensions.append("sphinx.ext.intersphinx")

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

html_theme = "furo"
html_title = f"zhiyuan {release}"

myst_enable_extensions = ["colon_fence", "deflist", "smartquotes"]
myst_heading_anchors = 3

nitpicky = True
autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": True}

napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True

# Docstring examples are run by pytest (--doctest-modules); only the narrative pages run here.
doctest_test_doctest_blocks = ""
doctest_global_setup = "import zhiyuan as zy"

intersphinx_mapping = (
    {}
    if OFFLINE
    else {
        "python": ("https://docs.python.org/3", None),
        "attrs": ("https://www.attrs.org/en/stable/", None),
        "cattrs": ("https://catt.rs/en/stable/", None),
    }
)

# Offline, nothing outside zhiyuan can resolve: ignore stdlib and third-party names only.
# (``array`` is the bare ``array[int]`` annotation of RegionTree.__init__, kept as a string on
# Python 3.11 where ``array.array`` is not subscriptable; ``N`` and ``T`` are TypeVars.)
nitpick_ignore_regex = (
    [
        (
            "py:.*",
            r"(datetime|decimal|zoneinfo|array|pathlib|enum|collections\.abc|typing)\..*",
        ),
        ("py:.*", r"(attrs|attr|cattrs)(\..*)?"),
        ("py:class", r"array"),
        ("py:class", r"zhiyuan\.convert\.T|zhiyuan\.hierarchy\.tree\.N"),
    ]
    if OFFLINE
    else [("py:class", r"zhiyuan\.convert\.T|zhiyuan\.hierarchy\.tree\.N")]
)

# TEMPORARY: src/zhiyuan/hierarchy/units.py, Registry.__init__ still annotates ``items`` with the
# private alias ``Item``; write ``items: Iterable[PracticeUnit | Organization | Team] = ()`` there
# (as Registry.add now does) and delete this entry.
nitpick_ignore = [("py:class", "Item")]
