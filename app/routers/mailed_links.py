"""What a link in a message does, said before it does it: the one answer of every GET of a mailed
link (sign-up, password reset, unsubscribe, the reporter's feedback). Mail scanners and link
previews open every link they see, so opening one changes nothing; the answer names the POST
that acts, absolute from the public base URL."""

from __future__ import annotations

from app import i18n
from app.schemas.notification import Confirmation, LinkActionName
from app.services.notifications.tokens import api_link

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def describe_link(
    public_base_url: str,
    *,
    action: LinkActionName,
    description: i18n.Text,
    path: str,
    body: dict[str, str | int],
    query: dict[str, str | int] | None = None,
    form: bool = False,
) -> Confirmation:
    """The confirmation of a mailed link: what the POST to `path` (with `body`) will do."""
    return Confirmation(
        action=action,
        description=description.render(i18n.current()),
        href=api_link(public_base_url, path, **(query or {})),
        content_type=FORM if form else JSON,
        body=body,
    )
