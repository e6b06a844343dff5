"""Routing: a new issue goes to the queue of every agency whose jurisdiction covers the point and
that handles the category; with none, to the admins' unrouted queue. Claims and transfers move
it between queues."""

from __future__ import annotations

import httpx
import pytest

from app.models import IssueStatus
from tests.factories import IN_EAST, IN_WEST, OUTSIDE, WEST_DISTRICT, if_match
from tests.routing.town import Town, act, queue, queues, report, unrouted

NOBODY: dict[str, list[str]] = {"west": [], "east": [], "metro": [], "lights-west": []}


async def test_an_issue_goes_to_every_covering_agency_that_handles_its_category(
    client: httpx.AsyncClient, town: Town
) -> None:
    in_west = await report(client, town, "pothole", IN_WEST)
    in_east = await report(client, town, "pothole", IN_EAST)
    light = await report(client, town, "streetlight", IN_WEST)

    assert await queues(client, town) == {
        "west": [in_west],
        "east": [in_east],
        # Most at risk first: with equal targets, the oldest report is due soonest.
        "metro": [in_west, in_east, light],
        "lights-west": [light],
    }
    assert await unrouted(client, town) == []


async def test_a_point_on_the_border_between_two_districts_goes_to_both(
    client: httpx.AsyncClient, town: Town
) -> None:
    on_border = await report(client, town, "pothole", (WEST_DISTRICT[2], 13.72))
    assert await queues(client, town) == {
        **NOBODY,
        "west": [on_border],
        "east": [on_border],
        "metro": [on_border],
    }


@pytest.mark.parametrize(
    ("category", "at"),
    [
        pytest.param("pothole", OUTSIDE, id="outside every jurisdiction"),
        pytest.param("graffiti", IN_WEST, id="a category no agency handles"),
        pytest.param("streetlight", OUTSIDE, id="a street light outside the city"),
    ],
)
async def test_an_issue_nobody_covers_waits_in_the_unrouted_queue(
    client: httpx.AsyncClient, town: Town, category: str, at: tuple[float, float]
) -> None:
    covered = await report(client, town, "pothole", IN_WEST)
    lost = await report(client, town, category, at)

    assert await unrouted(client, town) == [lost]
    assert await queues(client, town) == {**NOBODY, "west": [covered], "metro": [covered]}


async def test_only_admins_see_the_unrouted_queue(client: httpx.AsyncClient, town: Town) -> None:
    await report(client, town, "pothole", OUTSIDE)
    for headers in (town.citizen, town.staff["west"]):
        response = await client.get("/api/v1/issues/unrouted", headers=headers)
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
    response = await client.get("/api/v1/issues/unrouted")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_queue_is_for_its_agency_and_admins_only(
    client: httpx.AsyncClient, town: Town
) -> None:
    issue = await report(client, town, "pothole", IN_WEST)
    url = f"/api/v1/agencies/{town.west.id}/queue"
    assert [i["id"] for i in (await client.get(url, headers=town.admin)).json()["items"]] == [issue]
    for headers in (town.citizen, town.staff["east"], town.staff["metro"]):
        response = await client.get(url, headers=headers)
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get(url)).status_code == 401


async def test_a_claim_takes_the_issue_out_of_the_other_candidates_queues(
    client: httpx.AsyncClient, town: Town
) -> None:
    issue = await report(client, town, "pothole", IN_WEST)
    claimed = await act(client, town.staff["west"], issue, action="claim")
    assert claimed["agency"]["slug"] == "west"

    assert await queues(client, town) == {**NOBODY, "west": [issue]}
    listed = await client.get(f"/api/v1/agencies/{town.west.id}/queue", headers=town.staff["west"])
    [item] = listed.json()["items"]
    assert item["status"] == IssueStatus.acknowledged
    assert item["allowed_actions"] == ["start", "resolve", "transfer"]
    # The public list filters by the handling agency.
    public = await client.get("/api/v1/issues", params={"agency": town.west.id})
    assert [i["id"] for i in public.json()["items"]] == [issue]
    assert (await client.get("/api/v1/issues", params={"agency": town.metro.id})).json()[
        "items"
    ] == []


async def test_a_transfer_moves_the_issue_to_the_new_agencys_queue_only(
    client: httpx.AsyncClient, town: Town
) -> None:
    issue = await report(client, town, "pothole", IN_WEST)
    await act(client, town.staff["west"], issue, action="claim")
    moved = await act(
        client,
        town.staff["west"],
        issue,
        action="transfer",
        to_agency=town.east.id,
        note="The pothole is on the east side of the road",
    )
    assert (moved["status"], moved["agency"]["slug"]) == ("open", "east")

    # Metro was a candidate when it was reported, but the issue now belongs to east.
    assert await queues(client, town) == {**NOBODY, "east": [issue]}
    east_view = await client.get(
        f"/api/v1/agencies/{town.east.id}/queue", headers=town.staff["east"]
    )
    # East holds it unclaimed: it may claim it, or pass it on.
    assert east_view.json()["items"][0]["allowed_actions"] == ["claim", "transfer"]
    claimed = await act(client, town.staff["east"], issue, action="claim")
    assert claimed["agency"]["slug"] == "east"
    assert await queues(client, town) == {**NOBODY, "east": [issue]}


async def test_an_admin_assigns_an_unrouted_issue_by_transferring_it(
    client: httpx.AsyncClient, town: Town
) -> None:
    issue = await report(client, town, "graffiti", IN_WEST)
    assert await unrouted(client, town) == [issue]
    await act(
        client,
        town.admin,
        issue,
        action="transfer",
        to_agency=town.west.id,
        note="West cleans walls too",
    )
    assert await unrouted(client, town) == []
    assert await queues(client, town) == {**NOBODY, "west": [issue]}
    assert await queue(client, town, town.west) == [issue]


@pytest.mark.parametrize("agency_id", ["0", "99999999999999999999", "9223372036854775808"])
async def test_a_queue_of_an_impossible_agency_id_is_a_422_problem(
    client: httpx.AsyncClient, town: Town, agency_id: str
) -> None:
    response = await client.get(f"/api/v1/agencies/{agency_id}/queue", headers=town.admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["location"] == "path.agency_id"


async def test_a_transfer_to_an_unknown_or_impossible_agency_is_refused_and_moves_nothing(
    client: httpx.AsyncClient, town: Town
) -> None:
    issue = await report(client, town, "pothole", IN_WEST)
    await act(client, town.staff["west"], issue, action="claim")
    # No such agency (the service looks), and an id no agency can have (the schema refuses).
    for target, location in ((987_654, "body.to_agency"), (2**63, "body.transfer.to_agency")):
        response = await client.post(
            f"/api/v1/issues/{issue}/transitions",
            headers=await if_match(client, issue, town.staff["west"]),
            json={"action": "transfer", "to_agency": target, "note": "Not ours"},
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["location"] for e in response.json()["errors"]] == [location]
    assert await queues(client, town) == {**NOBODY, "west": [issue]}


async def test_a_queue_takes_the_list_filters(client: httpx.AsyncClient, town: Town) -> None:
    west_pothole = await report(client, town, "pothole", IN_WEST)
    east_pothole = await report(client, town, "pothole", IN_EAST)
    light = await report(client, town, "streetlight", IN_WEST)
    await act(client, town.staff["metro"], east_pothole, action="claim")
    url = f"/api/v1/agencies/{town.metro.id}/queue"
    headers = town.staff["metro"]

    async def listed(**params: str) -> list[str]:
        # Newest first, as the issue list (a queue's own order is tested in tests/work).
        response = await client.get(url, params={"sort": "newest", **params}, headers=headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await listed() == [light, east_pothole, west_pothole]
    assert await listed(status="open") == [light, west_pothole]
    assert await listed(category="pothole") == [east_pothole, west_pothole]
    assert await listed(bbox=",".join(map(str, WEST_DISTRICT))) == [light, west_pothole]
    assert await listed(status="acknowledged", category="pothole") == [east_pothole]
    # The queue shows the reporter to the agency; the public list never does.
    response = await client.get(url, headers=headers)
    assert {item["reporter"]["id"] for item in response.json()["items"]} == {town.citizen_id}
