"""What readers may send. Unknown fields are refused (no mass assignment of status or site)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from service import textcheck
from service.bounded import DbId

# One table of limits, shared with the widget through GET /config so both sides agree.
LIMITS = {"author_name": 64, "email": 254, "website": 2048, "body": 10_000, "thread": 512}


def _comment_body(value: str) -> str:
    value = textcheck.multi_line(value, "body")
    if not value.strip():
        raise ValueError("body must not be blank")
    return value


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    thread: str = Field(min_length=1, max_length=LIMITS["thread"])
    author_name: str = Field(min_length=1, max_length=LIMITS["author_name"])
    email: str = Field(min_length=3, max_length=LIMITS["email"])
    website: str | None = Field(default=None, max_length=LIMITS["website"])
    body: str = Field(min_length=1, max_length=LIMITS["body"])
    parent_id: DbId | None = None
    thread_title: str | None = Field(default=None, max_length=300)
    thread_url: str | None = Field(default=None, max_length=2048)
    honeypot: str | None = Field(default=None, max_length=500)
    form_token: str | None = Field(default=None, max_length=512)

    @field_validator("thread")
    @classmethod
    def _thread(cls, value: str) -> str:
        value = textcheck.single_line(value, "thread")
        if not value:
            raise ValueError("thread must not be blank")
        return value

    @field_validator("author_name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = textcheck.single_line(value, "author_name")
        if not value:
            raise ValueError("author_name must not be blank")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        textcheck.refuse_controls(value)  # also lone surrogates, which could not be sealed
        return textcheck.email_address(value)

    @field_validator("website", "thread_url")
    @classmethod
    def _url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not value.strip():
            return None
        textcheck.refuse_controls(value)  # also lone surrogates and bidi controls
        return textcheck.http_url(value, info.field_name or "website")

    _check_body = field_validator("body")(_comment_body)

    @field_validator("thread_title")
    @classmethod
    def _title(cls, value: str | None) -> str | None:
        return None if value is None else textcheck.single_line(value, "thread_title")


class CommentEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=LIMITS["body"])

    _check_body = field_validator("body")(_comment_body)


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(max_length=LIMITS["body"])

    # Checked as a posted body is (blank is fine: the widget previews as one types).
    @field_validator("body")
    @classmethod
    def _body(cls, value: str) -> str:
        return textcheck.multi_line(value, "body")
