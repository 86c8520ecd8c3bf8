"""Paging: offset and limit in, a JSON array out, the counts in headers."""

import pytest

from telora.api.paging import DEFAULT_LIMIT, MAX_LIMIT


@pytest.fixture
def client(admin_user, make_user, session_client):
    for n in range(DEFAULT_LIMIT + 5):
        make_user(f"user{n:03}", password=None)
    return session_client(admin_user)  # root + 55 users


def names(response):
    return [u["username"] for u in response.json()]


def test_the_first_page_has_the_default_size(client):
    response = client.get("/api/v1/users")
    assert response.status_code == 200
    assert len(response.json()) == DEFAULT_LIMIT
    assert (response["X-Total-Count"], response["X-Result-Count"]) == ("56", str(DEFAULT_LIMIT))


def test_offset_and_limit_select_a_slice_in_a_stable_order(client):
    response = client.get("/api/v1/users", offset=50, limit=10)
    assert names(response) == ["user049", "user050", "user051", "user052", "user053", "user054"]
    assert (response["X-Total-Count"], response["X-Result-Count"]) == ("56", "6")
    assert names(client.get("/api/v1/users", offset=0, limit=2)) == ["root", "user000"]


def test_an_offset_beyond_the_end_is_an_empty_page(client):
    response = client.get("/api/v1/users", offset=500)
    assert response.json() == []
    assert (response["X-Total-Count"], response["X-Result-Count"]) == ("56", "0")


def test_the_total_counts_the_filter(client):
    response = client.get("/api/v1/users", q="user01", limit=3)
    assert names(response) == ["user010", "user011", "user012"]
    assert response["X-Total-Count"] == "10"


@pytest.mark.parametrize("params, field", [
    ({"limit": MAX_LIMIT + 1}, "limit"),
    ({"limit": 0}, "limit"),
    ({"offset": -1}, "offset"),
    ({"offset": "first"}, "offset"),
])
def test_bad_paging_is_a_400_naming_the_parameter(client, params, field):
    response = client.get("/api/v1/users", **params)
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_the_largest_page_is_allowed(client):
    response = client.get("/api/v1/users", limit=MAX_LIMIT)
    assert response["X-Result-Count"] == "56"
