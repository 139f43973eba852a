"""Input and output of the admin routes: a firm's advisors and the people who sign in."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from wealthgate.audit.schemas import MAX_ID
from wealthgate.firms.service import Advisor
from wealthgate.people.users import User
from wealthgate.validation import StoredText

# What the services accept, said in the schema: an "@" after a first character that is neither blank nor "@"
# (the address is stored trimmed and lower-cased), no NUL. The patterns exclude NUL, as StoredText does.
EMAIL_PATTERN = r"^[^\s@\x00][^\x00]*@[^\x00]*$"
Email = Annotated[str, Field(min_length=3, max_length=320, pattern=EMAIL_PATTERN)]
NAME_PATTERN = r"^[^\x00]*\S[^\x00]*$"  # not blank: the name is stored trimmed


class AdvisorIn(BaseModel):
    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Ana Lima", "email": "ana.lima@example.com"}]},
    )

    name: Annotated[str, Field(min_length=1, max_length=200, pattern=NAME_PATTERN)]
    email: Email


class AdvisorOut(BaseModel):
    firm_id: int
    id: int
    name: str
    email: str
    created_at: str

    @classmethod
    def of(cls, a: Advisor) -> AdvisorOut:
        return cls(
            firm_id=a.firm_id, id=a.id, name=a.name, email=a.email, created_at=a.created_at.isoformat()
        )


class UserIn(BaseModel):
    """A person of the caller's firm. Without `password`, one is generated and answered once."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={
            # an advisor user names the advisor they are; no other role takes one
            "if": {"properties": {"role": {"const": "advisor"}}, "required": ["role"]},
            "then": {"required": ["advisor_id"], "properties": {"advisor_id": {"type": "integer"}}},
            "else": {"properties": {"advisor_id": {"type": "null"}}},
            "examples": [
                {"email": "jordan.reyes@example.com", "role": "compliance", "name": "Jordan Reyes"},
                {"email": "sam.okoro@example.com", "role": "advisor", "name": "Sam Okoro", "advisor_id": 1},
            ],
        },
    )

    email: Email
    role: Literal["admin", "compliance", "advisor"]
    name: Annotated[StoredText, Field(max_length=200)] = ""
    advisor_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="Required for an advisor")
    password: Annotated[StoredText, Field(min_length=12, max_length=1024)] | None = None


class UserOut(BaseModel):
    firm_id: int
    id: int
    email: str
    name: str
    role: str
    advisor_id: int | None
    created_at: str
    last_sign_in_at: str | None
    disabled_at: str | None

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(
            firm_id=u.firm_id,
            id=u.id,
            email=u.email,
            name=u.name,
            role=u.role,
            advisor_id=u.advisor_id,
            created_at=u.created_at.isoformat(),
            last_sign_in_at=u.last_sign_in_at.isoformat() if u.last_sign_in_at else None,
            disabled_at=u.disabled_at.isoformat() if u.disabled_at else None,
        )


class UserCreated(BaseModel):
    user: UserOut
    one_time_password: str | None = Field(
        description="The generated password, shown only in this answer (null when the request set one)"
    )


class UserList(BaseModel):
    items: list[UserOut]
