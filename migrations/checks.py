"""Steps that several migrations take alike."""

from __future__ import annotations

from alembic import op


def allow_event_actions(actions: tuple[str, ...]) -> None:
    """Replace the CHECK constraint that lists the event kinds (a batch rebuild on SQLite). Each
    migration passes its own list, as it stood then, so history never changes."""
    allowed = ", ".join(f"'{action}'" for action in actions)
    with op.batch_alter_table("issue_event") as batch_op:
        batch_op.drop_constraint(op.f("ck_issue_event_event_action"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_issue_event_event_action"), f"action IN ({allowed})"
        )
