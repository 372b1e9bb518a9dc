"""The journal in memory: sequence, transactions (all or nothing, savepoints), ids, the hash
chain, entries as tagged data, JSON Lines round trips, and the time convention."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from books import CLOCK, T0, VOLUNTEERS, Books, fixed_clock, open_books, script, snapshot, t
from zhiyuan import SHANGHAI, from_json, to_json
from zhiyuan.convert import structure, structure_tagged, tagged_types, unstructure
from zhiyuan.credit import PointsLedger, Posting, PostingKind
from zhiyuan.errors import Conflict, InsufficientBalance, InvalidInput, InvalidValue, NotFound
from zhiyuan.hours import Entry as HourEntry
from zhiyuan.hours import Registered, Rejected, Reversed
from zhiyuan.journal import Head, Journal
from zhiyuan.journal._ids import derive, foreign, own_id


def full_run() -> Books:
    b = open_books(Journal(clock=fixed_clock))
    script(b)
    return b


# --- the sequence and the books ----------------------------------------------------------------


def test_every_book_records_in_one_global_sequence() -> None:
    b = full_run()
    records = list(b.journal.records())
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    assert {r.book for r in records} == {
        "hours",
        "points",
        "time_credits",
        "stars",
        "feedback",
        "needs",
        "orders",
    }
    assert all(r.recorded_at == CLOCK for r in records)
    # each book's entries are its records, in order
    for name, book in b.journal.books.items():
        assert book.entries == tuple(r.entry for r in records if r.book == name)


def test_a_second_journal_over_the_same_records_rebuilds_every_book() -> None:
    b = full_run()
    again = open_books(Journal(b.journal.store, clock=fixed_clock))
    assert snapshot(again) == snapshot(b)
    for day in (1, 5, 12, 30):
        assert snapshot(again, t(day)) == snapshot(b, t(day))


def test_rebuilding_runs_no_policy_the_recorded_outcome_is_the_fact() -> None:
    b = full_run()
    # the same records under a policy that would count nothing: the ledger keeps what was recorded
    from zhiyuan.hours import HourLedger, HourPolicy

    j = Journal(b.journal.store, clock=fixed_clock)
    strict = HourLedger(
        b.hours.registry, policies=[HourPolicy(excluded_categories={"助老"})], journal=j
    )
    assert strict.summary("v1") == b.hours.summary("v1")
    assert strict.outcome("r1") == b.hours.outcome("r1")


def test_two_books_of_one_name_on_one_journal_conflict() -> None:
    j = Journal()
    PointsLedger(journal=j)
    with pytest.raises(Conflict, match="points"):
        PointsLedger(journal=j)
    PointsLedger(journal=j, name="points2")  # another name is fine
    assert sorted(j.books) == ["points", "points2"]


def test_a_book_given_a_journal_takes_its_clock_from_it() -> None:
    with pytest.raises(InvalidValue, match="clock"):
        PointsLedger(journal=Journal(), clock=fixed_clock)
    book = PointsLedger(clock=fixed_clock)
    (p,) = book.earn("e1", "v1", 5, issuer="i")
    assert p.at == CLOCK and book.journal.now() == CLOCK


# --- transactions --------------------------------------------------------------------------------


def test_an_operation_records_all_of_its_entries_or_none() -> None:
    book = PointsLedger(clock=fixed_clock)
    book.earn("e1", "v1", 10, at=t(1), issuer="i")
    with pytest.raises(InsufficientBalance):
        book.spend("s1", "v1", 11, at=t(2))
    assert len(book.journal) == 1
    with book.journal.transaction():
        book.earn("e2", "v1", 5, at=t(3), issuer="i")
        book.spend("s1", "v1", 12, at=t(4))  # sees the staged earning
        assert len(book.journal) == 1  # nothing written until the transaction ends
    assert len(book.journal) == 4 and book.balance("volunteer:v1") == 3


def test_a_failure_inside_a_transaction_records_nothing() -> None:
    book = PointsLedger(clock=fixed_clock)
    head = book.journal.head
    with pytest.raises(RuntimeError), book.journal.transaction():
        book.earn("e1", "v1", 10, at=t(1), issuer="i")
        raise RuntimeError("boom")
    assert book.journal.head == head and book.accounts() == {}
    assert book.journal.find("points", "e1") is None


def test_a_failed_operation_inside_a_transaction_is_a_savepoint() -> None:
    book = PointsLedger(clock=fixed_clock)
    with book.journal.transaction():
        book.earn("e1", "v1", 10, at=t(1), issuer="i")
        with pytest.raises(InsufficientBalance):
            book.spend("s1", "v1", 11, at=t(2))
        book.spend("s2", "v1", 4, at=t(2))
    assert [p.id for p in book.postings] == ["e1", "s2#1"]


def test_two_operations_of_one_transaction_cannot_overdraw_a_lot() -> None:
    book = PointsLedger(clock=fixed_clock)
    book.earn("e1", "v1", 10, at=t(1), issuer="i")
    with book.journal.transaction():
        book.spend("s1", "v1", 6, at=t(2))
        with pytest.raises(InsufficientBalance):
            book.spend("s2", "v1", 6, at=t(2))  # only 4 are left, counting the staged spend
    assert book.balance("volunteer:v1") == 4


def test_staging_one_id_twice_with_other_content_conflicts() -> None:
    book = PointsLedger(clock=fixed_clock)
    p = Posting(id="x", at=t(1), kind=PostingKind.EARN, source="i", target="y", amount=1)
    with pytest.raises(Conflict), book.journal.transaction() as tx:
        tx.add(book, [p, p])  # the same entry twice is kept once
        tx.add(
            book,
            [Posting(id="x", at=t(1), kind=PostingKind.EARN, source="i", target="y", amount=2)],
        )
    assert len(book.journal) == 0


def test_the_store_refuses_a_used_id_that_slipped_past_a_book() -> None:
    book = PointsLedger(clock=fixed_clock)
    book.earn("e1", "v1", 10, at=t(1), issuer="i")
    other = Posting(id="e1", at=t(1), kind=PostingKind.EARN, source="i", target="z", amount=1)
    with pytest.raises(Conflict), book.journal.transaction() as tx:
        tx.add(book, [other])
    assert book.balance("volunteer:v1") == 10 and len(book.journal) == 1


def test_a_closed_journal_writes_nothing() -> None:
    book = PointsLedger(clock=fixed_clock)
    book.journal.close()
    with pytest.raises(Conflict, match="closed"):
        book.earn("e1", "v1", 1, issuer="i")


# --- nothing reported that was not recorded ---------------------------------------------------


def test_the_points_ledger_never_reports_a_posting_it_did_not_make() -> None:
    # the example: a caller id "s:2" and the second leg of spend "s" used to collide
    book = PointsLedger(clock=fixed_clock)
    book.earn("a", "v1", 10, at=t(1), issuer="i")
    book.earn("b", "v1", 10, at=t(1), issuer="i")
    book.earn("s:2", "v2", 5, at=t(1), issuer="i")
    legs = book.spend("s", "v1", 15, at=t(2))
    assert [(p.id, p.amount) for p in legs] == [("s#1", 10), ("s#2", 5)]
    assert book.balance("volunteer:v1") == 5
    assert all(book.posting(p.id) == p for p in legs)


@pytest.mark.parametrize(
    "call",
    [
        lambda b: b.earn("s#2", "v1", 1, issuer="i"),
        lambda b: b.spend("x#1", "v1", 1),
        lambda b: b.transfer("t#1", "v1", "v2", 1),
        lambda b: b.post(
            Posting(
                id="e#settle", at=t(1), kind=PostingKind.ADJUST, source="a", target="b", amount=1
            )
        ),
    ],
)
def test_a_caller_cannot_take_an_id_the_library_makes(call: Any) -> None:
    book = PointsLedger(clock=fixed_clock)
    book.earn("e", "v1", 10, at=t(1), issuer="i")
    with pytest.raises(InvalidValue, match="#"):
        call(book)
    assert len(book) == 1


ids = st.text(min_size=1, max_size=8).filter(lambda s: s.strip() != "")


@given(
    caller=ids.filter(lambda s: "#" not in s), parent=ids, step=st.one_of(st.integers(1, 9), ids)
)
def test_derived_ids_never_equal_caller_ids(caller: str, parent: str, step: object) -> None:
    assert own_id(caller, "id") == caller
    made = derive(foreign(parent), step)
    assert "#" in made and made != caller


@given(a=st.tuples(ids, ids), b=st.tuples(ids, ids))
def test_two_derivations_give_one_id_only_when_they_are_one(
    a: tuple[str, str], b: tuple[str, str]
) -> None:
    if a != b:
        assert derive(foreign(a[0]), a[1]) != derive(foreign(b[0]), b[1])


def test_an_operation_id_is_one_operation() -> None:
    book = PointsLedger(clock=fixed_clock)
    book.earn("x", "v1", 10, at=t(1), issuer="i")
    with pytest.raises(Conflict):
        book.spend("x", "v1", 1, at=t(2))  # "x" names an earning
    book.spend("s", "v1", 1, at=t(2))
    with pytest.raises(Conflict):
        book.earn("s", "v1", 1, at=t(3), issuer="i")  # "s" names a spend
    with pytest.raises(Conflict):
        book.spend("s", "v1", 1, at=t(2), to="shop:other")  # the same id, another target


# --- entries as data ----------------------------------------------------------------------------


def test_every_entry_type_is_registered_under_its_books_kind() -> None:
    kinds = {tag.split(".")[0] for tag in tagged_types()}
    assert {"hours", "points", "stars", "feedback", "needs", "orders"} <= kinds
    b = full_run()
    seen = {type(r.entry) for r in b.journal.records()}
    registered = set(tagged_types().values())
    assert seen <= registered


def test_every_recorded_entry_round_trips_through_json_with_its_tag() -> None:
    b = full_run()
    for r in b.journal.records():
        data = unstructure(r.entry, reveal=True)
        assert data["type"].split(".")[0] == type(b.journal.books[r.book]).kind
        assert structure_tagged(data) == r.entry
        text = to_json(r.entry, reveal=True)
        assert from_json(text, type(b.journal.books[r.book]).entry_type) == r.entry


def test_rejected_and_reversed_no_longer_look_alike() -> None:
    at = datetime(2025, 3, 1, tzinfo=SHANGHAI)
    rej = Rejected(record_id="r1", by="a", at=at, reason="x")
    rev = Reversed(record_id="r1", by="a", at=at, reason="x")
    assert to_json(rej) != to_json(rev)
    assert from_json(to_json(rej), HourEntry) == rej
    assert from_json(to_json(rev), HourEntry) == rev
    assert structure(json.loads(to_json([rej, rev])), list[HourEntry]) == [rej, rev]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"record_id": "r1"}, "type"),
        ({"type": "hours.nope", "record_id": "r1"}, "hours.nope"),
        ({"type": "points.posting"}, "points.posting"),
        ([1, 2], "mapping"),
    ],
)
def test_an_entry_without_a_known_tag_is_refused_clearly(data: object, needle: str) -> None:
    with pytest.raises(InvalidInput) as err:
        structure(data, HourEntry)
    assert needle in str(err.value)


def test_a_class_reads_its_own_tag_and_refuses_another() -> None:
    at = datetime(2025, 3, 1, tzinfo=SHANGHAI)
    rev = Reversed(record_id="r1", by="a", at=at, reason="x")
    assert from_json(to_json(rev), Reversed) == rev
    with pytest.raises(InvalidInput, match=r"hours\.reversed"):
        from_json(to_json(Rejected(record_id="r1", by="a", at=at, reason="x")), Reversed)


# --- JSON Lines ---------------------------------------------------------------------------------


def test_a_journal_exports_to_json_lines_and_imports_to_an_equal_one() -> None:
    b = full_run()
    out = io.StringIO()
    n = b.journal.export_jsonl(out, header={"note": "测试"})
    assert n == len(b.journal)
    fresh = Journal(clock=fixed_clock)
    head = fresh.import_jsonl(io.StringIO(out.getvalue()))
    assert head["note"] == "测试"
    assert fresh.head == b.journal.head
    again = open_books(fresh)
    assert snapshot(again) == snapshot(b)
    assert fresh.verify().ok


def test_an_altered_export_line_is_named_and_nothing_is_imported() -> None:
    b = full_run()
    out = io.StringIO()
    b.journal.export_jsonl(out)
    lines = out.getvalue().splitlines(keepends=True)
    assert CLOCK.isoformat() in lines[5]
    lines[5] = lines[5].replace(CLOCK.isoformat(), (CLOCK + timedelta(seconds=1)).isoformat())
    fresh = Journal()
    with pytest.raises(InvalidInput, match="line 6"):
        fresh.import_jsonl(lines)
    assert len(fresh) == 0
    # the content of an entry, too
    lines = out.getvalue().splitlines(keepends=True)
    k = next(i for i, line in enumerate(lines) if '"id":"post:r4"' in line)
    lines[k] = lines[k].replace('"category":"助老"', '"category":"助残"')
    with pytest.raises(InvalidInput, match=f"line {k + 1}"):
        Journal().import_jsonl(lines)


def test_import_goes_only_into_an_empty_journal() -> None:
    b = full_run()
    out = io.StringIO()
    b.journal.export_jsonl(out)
    with pytest.raises(Conflict):
        b.journal.import_jsonl(io.StringIO(out.getvalue()))
    with pytest.raises(InvalidInput, match="line 1"):
        Journal().import_jsonl(["{}\n"])
    with pytest.raises(InvalidInput, match="empty"):
        Journal().import_jsonl([])


# --- the hash chain ----------------------------------------------------------------------------


def test_the_chain_is_a_pure_function_of_the_records() -> None:
    assert Journal().head == Head(0, "0" * 64)
    one, two = full_run(), full_run()
    assert one.journal.head == two.journal.head
    other = open_books(Journal(clock=lambda: CLOCK + timedelta(seconds=1)))
    script(other)
    assert other.journal.head != one.journal.head  # the moment of recording is in the digest
    assert one.journal.verify().ok and one.journal.verify(decode=True).checked == len(one.journal)


def test_record_positions_and_digests_are_stable_anchors() -> None:
    b = full_run()
    rec = b.journal.record("hours", "post:r1")
    assert rec.entry == next(e for e in b.hours.entries if getattr(e, "id", "") == "post:r1")
    assert rec.digest == next(iter(b.journal.records(after=rec.seq - 1, upto=rec.seq))).digest
    with pytest.raises(NotFound):
        b.journal.record("hours", "post:nope")


# --- one time convention -------------------------------------------------------------------------


def test_writes_default_to_the_clock_and_reads_to_everything_recorded() -> None:
    now = [T0]
    j = Journal(clock=lambda: now[0])
    b = open_books(j)
    b.hours.add_volunteers([Registered(volunteer=v, at=T0).volunteer for v in _vols()])
    from books import record

    now[0] = t(1, 18)
    b.hours.post(record("r1", "v1", 1))  # at: the clock
    assert b.hours.status("r1") == "pending"  # 3-day notice, judged at the clock's now
    now[0] = t(5)
    assert b.hours.status("r1") == "certified"
    assert b.hours.status("r1", as_of=t(1, 17)) is None  # a cut-off before the posting
    (posted, _) = [e for e in b.hours.entries if not isinstance(e, Registered)]
    assert posted.at == t(1, 18)
    rec = b.journal.record("hours", "post:r1")
    assert rec.recorded_at == t(1, 18)


def _vols() -> list[Any]:
    from books import volunteer

    return [volunteer(v) for v in VOLUNTEERS]


def test_as_of_is_keyword_only_everywhere() -> None:
    b = full_run()
    with pytest.raises(TypeError):
        b.hours.status("r1", t(3))  # type: ignore[misc]
    with pytest.raises(TypeError):
        b.points.available("v1", t(3))  # type: ignore[misc]
    with pytest.raises(TypeError):
        b.needs.status("n1", t(3))  # type: ignore[misc]
    with pytest.raises(TypeError):
        b.timebank.positions(t(3))  # type: ignore[misc]


@settings(max_examples=20)
@given(upto=st.integers(0, 60))
def test_a_prefix_of_the_history_rebuilds_to_the_same_books(upto: int) -> None:
    b = open_books(Journal(clock=fixed_clock))
    script(b, upto=upto)
    again = open_books(Journal(b.journal.store, clock=fixed_clock))
    assert snapshot(again) == snapshot(b)


# --- checkpoints never build what they should not -----------------------------------------------


class _Crafted:
    """Pickles as a call: what a crafted checkpoint would try."""

    def __init__(self, call: Any, *args: Any) -> None:
        self.call, self.args = call, args

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.call, self.args)


@pytest.mark.parametrize(
    "crafted",
    [
        lambda tmp: _Crafted(
            __import__("zhiyuan.store", fromlist=["SQLiteStore"]).SQLiteStore, str(tmp / "evil.db")
        ),
        lambda tmp: _Crafted(
            __import__("zhiyuan.store", fromlist=["open_journal"]).open_journal, str(tmp / "x.db")
        ),
        lambda tmp: _Crafted(
            getattr, __import__("zhiyuan.journal", fromlist=["Journal"]).Journal, "close"
        ),
        lambda tmp: _Crafted(__import__("os").system, "true"),
    ],
)
def test_a_crafted_checkpoint_builds_nothing_outside_the_states(
    crafted: Any, tmp_path: Any
) -> None:
    import pickle

    from zhiyuan.journal import _pickle

    data = pickle.dumps(crafted(tmp_path))
    with pytest.raises(InvalidInput, match="forbidden"):
        _pickle.loads(data)
    assert not (tmp_path / "evil.db").exists() and not (tmp_path / "x.db").exists()
    # what the books save loads back
    b = full_run()
    for book in b.journal.books.values():
        assert _pickle.loads(_pickle.dumps(book._state)).__class__ is type(book._state)
