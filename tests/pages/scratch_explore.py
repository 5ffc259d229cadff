from sqlalchemy import select, text, func
from db.models import AuditEvent
from tests.pages.conftest import open_screen, sign_in, titles, literal_texts, screens

def test_deep(app, demo_db, fake_clock_app):
    sign_in(app, "employer@demo.test")
    app.query_params["report"] = "5"
    open_screen(app, "reports")
    app.session_state[app.dataframe[0].key] = {"selection": {"rows": [0, 1]}}
    app.run()
    app.run()
    with demo_db.transaction(write=False) as s:
        print(s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "permission.denied")))
    print(app.get("image"), [i.url for i in app.get("image")[0].proto.imgs] if app.get("image") else None)

def test_acc(app, demo_db, fake_clock_app):
    sign_in(app, "employer@demo.test")
    open_screen(app, "my-account")
    t = app.toggle(key="my_account_notices")
    print(t.value, t.label)
    t.set_value(True).run()
    print(app.exception, app.toggle(key="my_account_notices").value)
    sign_in  # noqa
    app2 = app
    app.button(key="sign_out").click().run()
    sign_in(app, "manager@demo.test")
    open_screen(app, "my-account")
    print(titles(app), [t.key for t in app.toggle])

def test_up(app, fake_clock_app):
    sign_in(app, "groupadmin@demo.test")
    open_screen(app, "upload")
    print(titles(app), app.get("file_uploader"), sorted(screens(app)))
