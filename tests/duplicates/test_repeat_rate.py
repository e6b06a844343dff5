"""The repeat-report rate in the loop metrics: how many contacts were about something already
reported, worked out by hand."""

from __future__ import annotations

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from tests.factories import bearer, if_match, make_category
from tests.lifecycle.helpers import City, report


def device(n: int) -> dict[str, str]:
    return {"X-Device-Id": f"a-phone-with-a-long-secret-id-{n:04d}"}


async def test_supports_and_merged_duplicates_over_all_contacts(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    """| issue | supports given by citizens       | merged   |
    | A     | 1, 2                             |          |
    | B     | 5                                | into A   |
    | C     | 3 (and 4, who withdrew)          |          |
    | D     |                                  |          |

    The merge carries supporter 5 over to A (B's reporter reported A too): not a new contact.
    Contacts: 4 reports + 4 supports = 8; repeats: 4 supports + 1 merged report = 5; 5/8."""
    make_category(db, "graffiti")  # a category with no issues, for the empty case
    a, b, c, _d = (report(db, database, city) for _ in range(4))
    for n, issue_id in ((1, a), (2, a), (3, c), (4, c), (5, b)):
        response = await client.post(f"/api/v1/issues/{issue_id}/support", headers=device(n))
        assert response.status_code == 200, response.text
    await client.delete(f"/api/v1/issues/{c}/support", headers=device(4))
    merged = await client.post(
        f"/api/v1/issues/{b}/merge",
        headers=await if_match(client, b, bearer(settings, city.admin)),
        json={"into": a},
    )
    assert merged.status_code == 200, merged.text
    assert (await client.get(f"/api/v1/issues/{a}")).json()["supporter_count"] == 3

    admin = bearer(settings, city.admin)
    figures = (await client.get("/api/v1/metrics/loop", headers=admin)).json()

    assert (figures["issues"], figures["supports"], figures["merged_duplicates"]) == (4, 4, 1)
    assert figures["repeat_rate"] == 5 / 8
    staff = bearer(settings, city.agent)  # west's own issues are all of them
    assert (await client.get("/api/v1/metrics/loop", headers=staff)).json()["repeat_rate"] == 5 / 8
    east = await client.get("/api/v1/metrics/loop", headers=bearer(settings, city.east_agent))
    assert (east.json()["supports"], east.json()["repeat_rate"]) == (0, None)
    none = await client.get("/api/v1/metrics/loop", headers=admin, params={"category": "graffiti"})
    assert none.json()["repeat_rate"] is None
