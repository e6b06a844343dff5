"""GET Service List and GET Service Definition, in XML and JSON, as the spec shapes them."""

from __future__ import annotations

import httpx
import pytest

from tests.open311.conftest import V2, Open311City
from tests.open311.helpers import JSON, children, error_codes, xml


async def test_the_service_list_in_xml_has_one_service_element_per_category(
    client: httpx.AsyncClient, city: Open311City
) -> None:
    response = await client.get(f"{V2}/services.xml")
    assert response.status_code == 200
    root = xml(response)
    assert root.tag == "services"
    services = {children(s)["service_code"]: children(s) for s in root.findall("service")}
    assert set(services) == {"pothole", "streetlight"}
    assert list(services["pothole"]) == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert services["pothole"]["metadata"] == "true"
    assert services["streetlight"]["metadata"] == "false"
    assert services["pothole"]["type"] == "realtime"


async def test_the_service_list_in_json_is_an_array_with_boolean_metadata(
    client: httpx.AsyncClient, city: Open311City
) -> None:
    response = await client.get(f"{V2}/services.json", params={"jurisdiction_id": ""})
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    body = response.json()
    assert isinstance(body, list)
    pothole = next(s for s in body if s["service_code"] == "pothole")
    assert pothole["metadata"] is True
    assert pothole["service_name"] == city.pothole.name_en
    assert pothole["group"] == "roads"


async def test_a_service_definition_lists_its_attributes_in_order_with_their_values(
    client: httpx.AsyncClient, city: Open311City
) -> None:
    response = await client.get(f"{V2}/services/pothole.json")
    assert response.status_code == 200
    definition = response.json()
    assert definition["service_code"] == "pothole"
    attributes = definition["attributes"]
    assert [a["code"] for a in attributes] == ["size", "lanes", "depth_cm", "since", "notice"]
    assert [a["order"] for a in attributes] == [1, 2, 3, 4, 5]
    size = attributes[0]
    assert size == {
        "variable": True,
        "code": "size",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": None,
        "order": 1,
        "description": "Question size",
        "values": [
            {"key": "small", "name": "Smaller than a plate"},
            {"key": "large", "name": "Larger than a wheel"},
        ],
    }
    assert attributes[4]["variable"] is False
    assert {a["datatype"] for a in attributes} == {
        "singlevaluelist",
        "multivaluelist",
        "number",
        "datetime",
        "text",
    }


async def test_a_service_definition_in_xml_nests_attribute_and_value_elements(
    client: httpx.AsyncClient, city: Open311City
) -> None:
    root = xml(await client.get(f"{V2}/services/pothole.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "pothole"
    first = root.findall("attributes/attribute")[0]
    assert first.findtext("required") == "true"
    assert first.findtext("datatype_description") == ""
    assert [v.findtext("key") for v in first.findall("values/value")] == ["small", "large"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_an_unknown_service_code_is_404_in_the_requested_format(
    client: httpx.AsyncClient, city: Open311City, fmt: str
) -> None:
    response = await client.get(f"{V2}/services/volcano.{fmt}")
    assert response.status_code == 404
    assert error_codes(response) == [404]


@pytest.mark.parametrize(
    "path", ["/services.json", "/services/pothole.xml", "/requests.json", "/requests/X.xml"]
)
async def test_another_jurisdiction_is_not_found_and_ours_is_accepted(
    client: httpx.AsyncClient, city: Open311City, path: str
) -> None:
    wrong = await client.get(f"{V2}{path}", params={"jurisdiction_id": "elsewhere.example"})
    assert wrong.status_code == 404
    assert error_codes(wrong) == [404]
    ours = await client.get(f"{V2}{path}", params={"jurisdiction_id": "bangkok.example"})
    assert ours.status_code == (404 if path.startswith("/requests/") else 200)


@pytest.mark.parametrize("path", ["/services.csv", "/services", "/nothing.json", "/requests.txt"])
async def test_an_unknown_format_or_resource_is_404_in_the_spec_error_format(
    client: httpx.AsyncClient, city: Open311City, path: str
) -> None:
    response = await client.get(f"{V2}{path}")
    assert response.status_code == 404
    assert error_codes(response) == [404]
