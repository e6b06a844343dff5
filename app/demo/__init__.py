"""The Bangkok demo city: `bangkok.yaml`, a city file like any other (50 district offices with
their real boundaries, four city-wide departments, 15 categories), plus demo staff."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import as_file, files

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import city
from app.models import Agency, Role, User
from app.security import hash_password
from app.spatial import backend_for

DEMO_EMAIL_DOMAIN = "demo.civicloop.example"


def district_code(name_en: str) -> str:
    """The code bangkok.yaml gives the district of this English name (`code` in the GeoJSON)."""
    return name_en.lower().replace(" ", "-")


def district_slug(name_en: str) -> str:
    """The district office's agency slug."""
    return "district-" + district_code(name_en)


@dataclass
class DemoSummary:
    categories: int
    agencies: int
    users: int
    districts: int


def load_demo_city(session: Session, *, password: str) -> DemoSummary:
    """Apply the demo city file and add an admin and, per agency, a manager and an agent (re-running
    adds nothing twice); every demo user gets `password`."""
    with as_file(files("app.demo")) as directory:
        loaded = city.load(directory / "bangkok.yaml")
    changes = city.apply(session, city=loaded, spatial=backend_for(session.get_bind().engine))
    created = [c.kind for c in changes if c.action == "create"]

    existing_emails = set(session.scalars(select(User.email)))
    users = [User(email=f"admin@{DEMO_EMAIL_DOMAIN}", display_name="Demo admin", role=Role.admin)]
    for agency in session.scalars(select(Agency).where(Agency.is_active).order_by(Agency.slug)):
        for role in (Role.manager, Role.agent):
            users.append(
                User(
                    email=f"{role}.{agency.slug}@{DEMO_EMAIL_DOMAIN}",
                    display_name=f"{agency.name_en} {role}",
                    role=role,
                    agency_id=agency.id,
                )
            )
    new_users = [u for u in users if u.email not in existing_emails]
    if new_users:
        password_hash = hash_password(password)  # one hash for all demo users: same password
        for user in new_users:
            user.password_hash = password_hash
        session.add_all(new_users)
    session.flush()
    return DemoSummary(
        categories=created.count("category"),
        agencies=created.count("agency"),
        users=len(new_users),
        districts=created.count("district"),
    )
