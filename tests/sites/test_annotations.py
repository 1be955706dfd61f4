"""Annotations of a site: notes written, listed newest first within a range, rewritten, deleted,
validated field by field, and gone with their site (on SQLite and PostgreSQL)."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from postmetric.accounts.users import create_user
from postmetric.errors import NotFound, ValidationError
from postmetric.sites.annotations import (
    MAX_LIMIT,
    Listing,
    create_annotation,
    delete_annotation,
    list_annotations,
    parse_listing,
    update_annotation,
)
from postmetric.sites.service import create_site, delete_site
from postmetric.store.metadata import Annotation


@pytest.fixture
def owner(db_session):
    return create_user(db_session, email="owner@example.com", password="long enough!")


@pytest.fixture
def site(db_session, owner):
    return create_site(db_session, owner=owner, domain="example.com")


def note(db_session, site, time: str, text: str = "A note", **fields) -> Annotation:
    return create_annotation(db_session, site, {"time": time, "text": text, **fields}, user_id=None)


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=timezone.utc)


def test_a_note_is_stored_in_utc_trimmed_and_signed(db_session, site, owner):
    annotation = create_annotation(db_session, site, {"time": "2026-12-01T10:30:00+01:00", "text": "  Launch  ",
                                                      "url": "https://example.com/launch"}, user_id=owner.id)
    db_session.commit()
    db_session.expire_all()
    stored = db_session.get(Annotation, annotation.id)
    assert (stored.kind, stored.time, stored.text, stored.url, stored.created_by) == (
        "note", datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc), "Launch", "https://example.com/launch", owner.id)


def test_listing_is_newest_first_within_the_range_and_bounded(db_session, site):
    first, second, third = (note(db_session, site, at(day).isoformat(), f"day {day}") for day in (1, 2, 3))
    same_time = note(db_session, site, at(3).isoformat(), "also day 3")
    assert list_annotations(db_session, site) == [same_time, third, second, first]
    assert list_annotations(db_session, site, Listing(start=at(2), end=at(3))) == [second]
    assert list_annotations(db_session, site, Listing(start=at(2))) == [same_time, third, second]
    assert list_annotations(db_session, site, Listing(end=at(2, 1))) == [second, first]
    assert list_annotations(db_session, site, Listing(limit=2)) == [same_time, third]


def test_another_sites_annotations_are_neither_listed_nor_found(db_session, site, owner):
    other = create_site(db_session, owner=owner, domain="other.example")
    theirs = note(db_session, other, "2026-12-01T00:00:00Z")
    assert list_annotations(db_session, site) == []
    for change in (lambda: update_annotation(db_session, site, theirs.id, {"time": "2026-12-01T00:00:00Z", "text": "x"}),
                   lambda: delete_annotation(db_session, site, theirs.id),
                   lambda: delete_annotation(db_session, site, 999_999)):
        with pytest.raises(NotFound):
            change()
    assert list_annotations(db_session, other) == [theirs]


def test_a_note_is_rewritten_whole_and_deleted(db_session, site):
    annotation = note(db_session, site, "2026-12-01T00:00:00Z", url="https://example.com/")
    update_annotation(db_session, site, annotation.id, {"time": "2026-12-02T08:00:00Z", "text": "Moved"})
    assert (annotation.time, annotation.text, annotation.url) == (at(2, 8), "Moved", None)
    delete_annotation(db_session, site, annotation.id)
    assert list_annotations(db_session, site) == []


def test_synced_kinds_are_not_written_or_edited_through_the_api_but_may_be_deleted(db_session, site):
    with pytest.raises(ValidationError) as error:
        note(db_session, site, "2026-12-01T00:00:00Z", kind="github")
    assert error.value.field == "kind" and "integration" in error.value.message
    commit = Annotation(site_id=site.id, time=at(1), text="Fix signup", kind="github")
    db_session.add(commit)
    db_session.flush()
    with pytest.raises(ValidationError) as error:
        update_annotation(db_session, site, commit.id, {"time": "2026-12-01T00:00:00Z", "text": "Edited"})
    assert error.value.field == "kind"
    delete_annotation(db_session, site, commit.id)
    assert list_annotations(db_session, site) == []


@pytest.mark.parametrize(("body", "field"), [
    ({"text": "x"}, "time"),
    ({"time": 1733000000, "text": "x"}, "time"),
    ({"time": "2026-12-01T10:00:00", "text": "x"}, "time"),  # no offset: which zone is it?
    ({"time": "2026-12-01", "text": "x"}, "time"),
    ({"time": "yesterday", "text": "x"}, "time"),
    ({"time": "1999-12-31T23:59:59Z", "text": "x"}, "time"),
    ({"time": "2100-01-01T00:00:00Z", "text": "x"}, "time"),
    ({"time": "2026-12-01T00:00:00Z"}, "text"),
    ({"time": "2026-12-01T00:00:00Z", "text": "   "}, "text"),
    ({"time": "2026-12-01T00:00:00Z", "text": "x" * 501}, "text"),
    ({"time": "2026-12-01T00:00:00Z", "text": ["x"]}, "text"),
    ({"time": "2026-12-01T00:00:00Z", "text": "x", "url": "javascript:alert(1)"}, "url"),
    ({"time": "2026-12-01T00:00:00Z", "text": "x", "url": "example.com/launch"}, "url"),
    ({"time": "2026-12-01T00:00:00Z", "text": "x", "url": "https://example.com/" + "a" * 2048}, "url"),
    ({"time": "2026-12-01T00:00:00Z", "text": "x", "url": "https://example.com/a b"}, "url"),
    ({"time": "2026-12-01T00:00:00Z", "text": "x", "url": 7}, "url"),
    ({"time": "2026-12-01T00:00:00Z", "text": "x", "kind": "tweet"}, "kind"),
    ({"time": "2026-12-01T00:00:00Z", "text": "x", "colour": "red"}, "colour"),
])
def test_an_invalid_note_names_its_field(db_session, site, body, field):
    with pytest.raises(ValidationError) as error:
        create_annotation(db_session, site, body, user_id=None)
    assert error.value.field == field
    assert list_annotations(db_session, site) == []


def test_the_longest_text_and_url_are_kept(db_session, site):
    url = "https://example.com/" + "a" * (2048 - len("https://example.com/"))
    annotation = note(db_session, site, "2026-12-01T00:00:00Z", "x" * 500, url=url)
    assert (len(annotation.text), annotation.url) == (500, url)


def test_a_listing_query_is_parsed_and_its_mistakes_name_the_field():
    assert parse_listing({}) == Listing()
    assert parse_listing({"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T01:00:00+01:00", "limit": "10"}) == (
        Listing(start=at(1), end=at(2), limit=10))
    for params, field in (({"from": "2026-12-01"}, "from"), ({"to": "soon"}, "to"),
                          ({"from": "2026-12-02T00:00:00Z", "to": "2026-12-01T00:00:00Z"}, "to"),
                          ({"limit": "0"}, "limit"), ({"limit": str(MAX_LIMIT + 1)}, "limit"),
                          ({"limit": "-1"}, "limit"), ({"limit": "9" * 40}, "limit")):
        with pytest.raises(ValidationError) as error:
            parse_listing(params)
        assert error.value.field == field


def test_deleting_the_site_deletes_its_annotations(db_session, site, owner):
    other = create_site(db_session, owner=owner, domain="other.example")
    note(db_session, site, "2026-12-01T00:00:00Z")
    kept = note(db_session, other, "2026-12-01T00:00:00Z")
    db_session.commit()
    delete_site(db_session, site)
    db_session.commit()
    assert db_session.scalars(select(Annotation)).all() == [kept]
    assert db_session.scalar(select(func.count()).select_from(Annotation).where(Annotation.site_id == site.id)) == 0


def test_deleting_the_author_keeps_the_note_unsigned(db_session, site, owner):
    writer = create_user(db_session, email="writer@example.com", password="long enough!")
    annotation = create_annotation(db_session, site, {"time": "2026-12-01T00:00:00Z", "text": "x"},
                                   user_id=writer.id)
    db_session.commit()
    db_session.delete(writer)
    db_session.commit()
    db_session.expire_all()
    assert db_session.get(Annotation, annotation.id).created_by is None
