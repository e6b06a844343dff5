"""RFC 9457 problem details."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FieldProblem(BaseModel):
    location: str = Field(description="Where the problem is, e.g. `body.latitude`.")
    message: str
    code: str = Field(description="Stable machine-readable code, e.g. `less_than_equal`.")


class Problem(BaseModel):
    """An error answer (RFC 9457); extension members such as `allowed_actions` may follow."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldProblem] | None = None
