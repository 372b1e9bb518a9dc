"""Sphinx extension: the ``profile-sources`` directive, the sources of the shipped profiles.

The tables are built from the code when the docs are built, never written by hand, so they cannot
drift from the data: every ``*_PROFILES`` table (a :class:`zhiyuan.profiles.Profiles` named in
``__all__`` of ``zhiyuan`` or of one of its public modules and packages) becomes a section with a
table of its profiles (name, in force from, document, issuer, date, clause, region, link,
verified or reported) and the notes of their sources below it. A table added to the library
appears on the page by itself.

Usage (MyST)::

    ```{profile-sources}
    ```

    ```{profile-sources} STAR_PROFILES
    ```

Without an argument every table is shown, each in a section of its own; with a table's name,
only that table (no section).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from zhiyuan.profiles import Profiles, Source, shipped_tables

COLUMNS = (
    "name",
    "in force from",
    "document",
    "issuer",
    "date",
    "clause",
    "region",
    "link",
    "basis",
)
WIDTHS = (10, 8, 22, 14, 8, 6, 8, 5, 8)
NONE = "—"
URL = re.compile(r"https?://[^\s)，。]+")


def _short(code: str) -> str:
    """A 12-digit region code without the zeros of the levels below it."""
    for width in (2, 4, 6, 9):
        if code[width:] == "0" * (12 - width):
            return code[:width]
    return code


def _text(value: str | None) -> nodes.Node:
    return nodes.Text(NONE if value is None else value)


def _linked(text: str) -> list[nodes.Node]:
    """``text`` with every URL in it made a link."""
    out: list[nodes.Node] = []
    last = 0
    for m in URL.finditer(text):
        if m.start() > last:
            out.append(nodes.Text(text[last : m.start()]))
        out.append(nodes.reference(m.group(), m.group(), refuri=m.group()))
        last = m.end()
    if last < len(text):
        out.append(nodes.Text(text[last:]))
    return out


def _entry(*children: nodes.Node) -> nodes.entry:
    entry = nodes.entry()
    entry += nodes.paragraph("", "", *children)
    return entry


class ProfileSources(SphinxDirective):
    """The sources of the shipped profiles: every table, or the one named."""

    optional_arguments = 1
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {}

    def run(self) -> list[nodes.Node]:
        tables = shipped_tables()
        if self.arguments:
            name = self.arguments[0]
            if name not in tables:
                raise self.error(f"no shipped table named {name!r} (have: {', '.join(tables)})")
            return self._table(name, tables[name])
        out: list[nodes.Node] = []
        for name, table in tables.items():
            section = nodes.section(ids=[nodes.make_id(f"sources-{name}")], names=[name.lower()])
            section += nodes.title("", "", nodes.literal(name, name))
            section.extend(self._table(name, table))
            out.append(section)
        return out

    def _xref(self, reftype: str, target: str) -> addnodes.pending_xref:
        ref = addnodes.pending_xref(
            "",
            refdomain="py",
            reftype=reftype,
            reftarget=target,
            refexplicit=False,
            refwarn=True,
            refdoc=self.env.docname,
        )
        short = target.rsplit(".", 1)[-1]
        ref += nodes.literal(short, short, classes=["xref", "py", f"py-{reftype}"])
        return ref

    def _table(self, name: str, table: Profiles[Any]) -> list[nodes.Node]:
        kind = table.kind
        package = kind.__module__.rsplit(".", 1)[0]
        sources = [p.source for p in table.values()]
        verified = sum(isinstance(s, Source) and s.verified for s in sources)
        intro = nodes.paragraph(
            "",
            "",
            nodes.Text(f"{len(table)} profiles of "),
            self._xref("class", f"{package}.{kind.__name__}"),
            nodes.Text(" in "),
            self._xref("data", f"{kind.__module__}.{name}"),
            nodes.Text(f": {verified} verified (核实), {len(table) - verified} reported (转述)."),
        )

        grid = nodes.table(classes=["profile-sources"])
        group = nodes.tgroup(cols=len(COLUMNS))
        grid += group
        for width in WIDTHS:
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        head += nodes.row("", *(_entry(nodes.Text(c)) for c in COLUMNS))
        body = nodes.tbody()
        group += body
        notes = nodes.bullet_list()
        for key, profile in table.items():
            source = profile.source
            if not isinstance(source, Source):
                cells = [nodes.Text("未注明 / none given"), *(nodes.Text(NONE) for _ in range(4))]
                basis = NONE
                link: nodes.Node = nodes.Text(NONE)
            else:
                cells = [
                    _text(source.document),
                    _text(source.issuer),
                    _text(None if source.date is None else source.date.isoformat()),
                    _text(source.clause),
                    _text(None if source.region_code is None else _short(source.region_code)),
                ]
                basis = "verified (核实)" if source.verified else "reported (转述)"
                link = (
                    nodes.Text(NONE)
                    if source.url is None
                    else nodes.reference("link", "link", refuri=source.url)
                )
                if source.note is not None:
                    item = nodes.list_item()
                    item += nodes.paragraph(
                        "", "", nodes.literal(key, key), nodes.Text(": "), *_linked(source.note)
                    )
                    notes += item
            body += nodes.row(
                "",
                _entry(nodes.literal(key, key)),
                _entry(nodes.Text(profile.effective_from.isoformat())),
                *(_entry(c) for c in cells),
                _entry(link),
                _entry(nodes.Text(basis)),
            )
        out: list[nodes.Node] = [intro, grid]
        if len(notes):
            out += [nodes.paragraph(text="Notes:"), notes]
        return out


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("profile-sources", ProfileSources)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
