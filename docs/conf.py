"""Sphinx configuration for zhiyuan (志愿); see STYLE.md §5.

Set ``OFFLINE=1`` (as ``make docs`` and CI do) to build without network: intersphinx is then off
and references to stdlib and third-party types are ignored instead of failing ``-n -W``.
"""

from __future__ import annotations

import doctest
import os
import sys
from pathlib import Path

import zhiyuan

sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))  # local extensions

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
    "profile_sources",  # docs/_ext: the sources of the shipped profiles, built from the code
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
# Compare the messages of expected exceptions too (Sphinx ignores their detail by default), so a
# page that shows an error shows the one the library raises.
doctest_default_flags = doctest.ELLIPSIS | doctest.DONT_ACCEPT_TRUE_FOR_1

intersphinx_mapping = (
    {}
    if OFFLINE
    else {
        "python": ("https://docs.python.org/3", None),
        "attrs": ("https://www.attrs.org/en/stable/", None),
        "cattrs": ("https://catt.rs/en/stable/", None),
        # the optional extras (zhiyuan.bulk, zhiyuan.simulate, the scipy solver)
        "numpy": ("https://numpy.org/doc/stable/", None),
        "scipy": ("https://docs.scipy.org/doc/scipy/", None),
        "pandas": ("https://pandas.pydata.org/docs/", None),
        "dateutil": ("https://dateutil.readthedocs.io/en/stable/", None),
    }
)

# Offline, nothing outside zhiyuan can resolve: ignore stdlib and third-party names only.
# (``array`` is the bare ``array[int]`` annotation of RegionTree.__init__, kept as a string on
# Python 3.11 where ``array.array`` is not subscriptable; ``N`` and ``T`` are TypeVars.)
# In both modes: numpy's private typing classes (what ``numpy.typing.ArrayLike`` expands to) and
# the bare ``NDArray`` of annotations imported only under TYPE_CHECKING (zhiyuan.matching.assignment)
# are in no inventory; nor are the TypeVars of the journal: ``E``, ``E_contra`` and ``S`` of
# ``Book[E, S]`` and ``Fold[E_contra]`` (also as ``Generic[E, S]`` and ``Protocol[E_contra]`` in
# their bases, hence py:obj), and the bare ``V`` of ``Transaction.view``.
_ALWAYS_IGNORED = [
    (
        "py:class",
        r"zhiyuan\.convert\.T|zhiyuan\.hierarchy\.tree\.N|(zhiyuan\.schedule\.)?P|zhiyuan\.hours\.policy\.N",
    ),
    ("py:class", r"numpy\._typing\..*|NDArray"),
    ("py:(class|obj)", r"zhiyuan\.journal\._book\.(E|E_contra|S)"),
    ("py:(class|obj)", r"zhiyuan\.schedule\.P"),
    ("py:class", r"V"),
]
nitpick_ignore_regex = (
    [
        (
            "py:.*",
            r"(abc|contextlib|datetime|decimal|zoneinfo|array|pathlib|enum|collections\.abc|typing|os|html|str|threading)\..*",
        ),
        ("py:.*", r"(attrs|attr|cattrs)(\..*)?"),
        ("py:.*", r"(dateutil|numpy|scipy|pandas|polars|pyarrow|dask|matplotlib)(\..*)?"),
        ("py:class", r"array|datetime|date"),
        *_ALWAYS_IGNORED,
    ]
    if OFFLINE
    else _ALWAYS_IGNORED
)

# Type aliases that autodoc shows by name in signatures, where a class reference cannot find
# them: ``Segment`` (tuple[int, int]) and ``Rule`` (Callable[[Draft], None], documented as data
# on the hours page) of zhiyuan.hours.policy; ``IntArrayLike`` of zhiyuan.matching.assignment.
nitpick_ignore: list[tuple[str, str]] = [
    ("py:class", "Segment"),
    ("py:class", "Rule"),
    ("py:class", "IntArrayLike"),
]

# The categorical column of zhiyuan.bulk lives in its private frame module and is documented
# where users import it, as zhiyuan.bulk.Coded (docs/reference/bulk.md).
nitpick_ignore.append(("py:class", "zhiyuan.bulk._frames.Coded"))
# So do the ids kept as Arrow strings (zhiyuan.bulk.LazyIds). The constructors attrs writes for
# Columns and StarColumns keep their argument's annotation, ``AnyArray | _frames.LazyIds``, as
# the text it is: a type alias and a name autodoc cannot look up there.
nitpick_ignore += [
    ("py:class", "zhiyuan.bulk._frames.LazyIds"),
    ("py:class", "_frames.LazyIds"),
    ("py:class", "AnyArray"),
]

# Private base classes are not documented (``Masked``, the base of IdNumber and Phone).
nitpick_ignore.append(("py:class", "zhiyuan._private.Masked"))

# The folded states of the books (``_HoursState``, ``_PointsState``, ``_OrdersState`` …) are
# private by design: they appear only as the second type argument of a book's base class,
# ``Book[Entry, _HoursState]``, and are documented nowhere.
nitpick_ignore_regex.append(("py:class", r"zhiyuan\.[a-z_.]+\._[A-Z][A-Za-z]*State"))

# The platform's parts (``PlatformCore`` and its mixins ``NeedFlows``, ``ProjectFlows``,
# ``DeedFlows``) are private: the reference documents their members on ``Platform`` itself.
nitpick_ignore_regex.append(("py:class", r"zhiyuan\.platform\._[a-z]+\.[A-Za-z]+"))

# ``Clock`` is a type alias (Callable[[], datetime]) that autodoc shows by name; it is documented
# once, as data on the top-level page (docs/reference/zhiyuan.md), under ``zhiyuan.Clock``.
autodoc_type_aliases = {"Clock": "zhiyuan.Clock"}
# Inside a union (``Clock | None``, hours.fold) Sphinx keeps the alias as a forward reference that
# no inventory holds; the alias itself is documented as above.
nitpick_ignore += [("py:class", "TypeAliasForwardRef"), ("py:class", "'zhiyuan.Clock'")]


def _undo_inline_type(app, what, name, obj, options, lines):
    """Put back the text napoleon takes for a type in attribute, data and property docstrings.

    Napoleon reads "X: text" on the first line of such a docstring as type X, so
    "签到码: the activity's sign-in code" would get the type 签到码. In zhiyuan types come from
    annotations only, so the ``:type:`` line napoleon adds is removed and "X: " restored in front
    of the text.
    """
    if what not in ("attribute", "data", "property"):
        return
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith(":type: "):
            prefix = lines.pop(i)[len(":type: ") :]
            if i and not lines[i - 1].strip():
                del lines[i - 1]
            for j, text in enumerate(lines):
                if text.strip():
                    lines[j] = f"{prefix}: {text}"
                    return
            lines.insert(0, prefix)
            return


def _public_name(target):
    """The documented public name of ``zhiyuan.pkg._private_module.Name``, or ``None``.

    Autodoc names a class by its ``__module__``, so a class defined in a private submodule and
    re-exported by its package (``zhiyuan.journal._book.Book`` as ``zhiyuan.journal.Book``,
    ``zhiyuan.journal._journal.Journal`` as ``zhiyuan.journal.Journal``) is referenced by a name
    that is documented nowhere. The public name is the target without its private module parts,
    provided that name is the same object.
    """
    import importlib

    parts = target.split(".")
    if parts[0] != "zhiyuan" or not any(p.startswith("_") for p in parts[1:-1]):
        return None
    public = [p for p in parts[:-1] if not p.startswith("_")]
    try:
        private = importlib.import_module(".".join(parts[:-1]))
        package = importlib.import_module(".".join(public))
    except ImportError:
        return None
    obj = getattr(private, parts[-1], None)
    if obj is None or getattr(package, parts[-1], None) is not obj:
        return None
    return ".".join([*public, parts[-1]])


def _resolve_private_module(app, env, node, contnode):
    """Resolve a reference to a private module's class by its public name (see _public_name)."""
    if node.get("refdomain") != "py":
        return None
    public = _public_name(node.get("reftarget", ""))
    if public is None:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(
        env, node.get("refdoc", ""), app.builder, node["reftype"], public, node, contnode
    )


def setup(app):
    # after napoleon (priority 500), which turns docstrings into reST
    app.connect("autodoc-process-docstring", _undo_inline_type, priority=600)
    app.connect("missing-reference", _resolve_private_module)
