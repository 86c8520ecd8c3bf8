"""GUI test helpers: logged-in clients and the people of the rights matrix."""

import pytest

from gui_helpers import login

USER_MANAGER = ["users.view", "users.change", "users.grant"]


@pytest.fixture
def client_for():
    """client_for(user, brand=None) -> a test client logged in as `user`, working in `brand`."""
    return login


@pytest.fixture
def admin_client_ui(admin_user, client_for):
    return client_for(admin_user)


@pytest.fixture
def partner_admin(make_user, brand_b):
    """Holds the users area (view, change, grant) in brand B only."""
    return make_user("bea", {brand_b: USER_MANAGER})


@pytest.fixture
def alpha_user(make_user, brand_a):
    return make_user("alf", {brand_a: ["audit.view", "jobs.view"]}, first_name="Alf", last_name="Alphason")
