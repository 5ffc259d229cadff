from services import report_search, report_scope
from tests.services.report_world import world  # noqa
def test_x(db, world):
    p = world.principal("acme_user")
    with db.transaction(write=False) as s:
        print("scope", report_scope.provider_ids(s, p), p.provider_links)
    print(report_search.filter_choices(db, p))
