"""The Users screen past 50 people: Next and Previous by keyset, ticks let go with a note on a
page turn, the dormant filter; the invite form refuses two different addresses before sending."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, insert, select

from db.models import RoleInvitation, User
from tests.pages.conftest import DEMO_NOW, literal_texts, open_screen, sign_in


def _crowd(demo_db, count: int = 70) -> None:
    with demo_db.transaction() as session:
        session.execute(insert(User), [
            {"email": f"zz.person{n:03d}@crowd.test", "name": f"Crowd Person {n:03d}",
             "status": "active", "created_at": DEMO_NOW - timedelta(days=200),
             "last_login_at": DEMO_NOW - timedelta(days=n)} for n in range(count)])


def _grid(app):
    return next(frame for frame in app.dataframe if frame.key.startswith("people_grid"))


def test_the_people_list_pages_past_fifty_and_a_page_turn_lets_ticks_go_with_a_note(
        app, demo_db, fake_clock_app):
    _crowd(demo_db)
    with demo_db.transaction(write=False) as session:
        everyone = sorted(session.scalars(select(User.email)).all())
    sign_in(app, "admin@demo.test")
    open_screen(app, "users")
    first = list(_grid(app).value["Email"])
    assert first == everyone[:50]
    assert app.button(key="people_previous").disabled
    # Tick someone, then turn the page: the tick lets go, and the note names whom.
    grid = _grid(app)
    app.session_state[grid.key] = {"selection": {"rows": [0]}}
    app.run()
    app.button(key="people_next").click().run()
    second = list(_grid(app).value["Email"])
    assert second == everyone[50:100]
    assert any(text.endswith("was on the page you left, so no longer selected.</p>")
               and everyone[0] in text for text in literal_texts(app))
    assert _grid(app).value is not None and not app.session_state["people_ticked_ids"]
    pages = [first, second]
    while not app.button(key="people_next").disabled:
        app.button(key="people_next").click().run()
        pages.append(list(_grid(app).value["Email"]))
    assert [email for page in pages for email in page] == everyone
    app.button(key="people_previous").click().run()
    assert list(_grid(app).value["Email"]) == pages[-2]


def test_the_dormant_filter_and_a_new_search_start_on_the_first_page(app, demo_db, fake_clock_app):
    _crowd(demo_db)
    sign_in(app, "admin@demo.test")
    open_screen(app, "users")
    app.button(key="people_next").click().run()
    app.text_input(key="people_text").input("crowd.test")
    app.number_input(key="people_dormant").set_value(60)
    app.button(key="FormSubmitter:people_filters-Show people").click().run()
    # Last signed in 61..69 days ago (60 days exactly is not older than 60).
    assert list(_grid(app).value["Email"]) == [f"zz.person{n:03d}@crowd.test" for n in range(61, 70)]
    assert app.button(key="people_previous").disabled and app.button(key="people_next").disabled


def test_the_invite_form_refuses_two_different_addresses_before_sending(app, demo_db, fake_clock_app):
    sign_in(app, "groupadmin@demo.test")
    open_screen(app, "users")
    app.text_input(key="invite_email").input("new.person@example.org")
    app.text_input(key="invite_email_again").input("new.persn@example.org")
    app.text_input(key="invite_name").input("New Person")
    app.button(key="FormSubmitter:invite-Send invitation").click().run()
    assert [e.value for e in app.error] == [
        "The two email addresses are not the same: type the address again in both fields."]
    with demo_db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(RoleInvitation)) == 0
    # What was typed stays, to correct rather than retype.
    assert app.text_input(key="invite_email").value == "new.person@example.org"
