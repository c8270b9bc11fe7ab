"""API shapes of search."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nxce.core.params import QueryDecimal, QueryInt
from search.backend import FACETS, SORTABLE

MAX_QUERY_CHARS = 100
MAX_PAGE_SIZE = 100
MAX_PAGE = 1000
SUGGESTIONS = 10


class SearchParams(BaseModel):
    """`GET /search`; unknown parameters are refused so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(
        "", description=f"Text, pinyin or initials; at most {MAX_QUERY_CHARS} characters."
    )
    category: Literal["public", "professional"] | None = None
    series: str | None = Field(None, max_length=20)
    subject: str | None = Field(None, max_length=40)
    year: QueryInt | None = Field(None, ge=2000, le=2100)
    min_hours: QueryDecimal | None = Field(None, ge=0, le=200, allow_inf_nan=False)
    max_hours: QueryDecimal | None = Field(None, ge=0, le=200, allow_inf_nan=False)
    sort: str | None = Field(None, description="`hours`, `year` or `code`, then `:asc` or `:desc`.")
    page: QueryInt = Field(1, ge=1, le=MAX_PAGE)
    page_size: QueryInt = Field(20, ge=1, le=MAX_PAGE_SIZE)
    facets: str = Field("", description=f"Comma-separated, of {', '.join(FACETS)}.")

    @field_validator("sort")
    @classmethod
    def _sort(cls, value: str | None) -> str | None:
        if value is None:
            return None
        field, _, order = value.partition(":")
        if field not in SORTABLE or order not in ("asc", "desc"):
            allowed = ", ".join(f"{f}:{o}" for f in SORTABLE for o in ("asc", "desc"))
            raise ValueError(f"must be one of {allowed}, got {value!r}")
        return value

    @field_validator("facets")
    @classmethod
    def _facets(cls, value: str) -> str:
        unknown = [f for f in value.split(",") if f.strip() and f.strip() not in FACETS]
        if unknown:
            raise ValueError(f"must be a list of {', '.join(FACETS)}, got {unknown[0]!r}")
        return value

    @model_validator(mode="after")
    def _hours_range(self) -> Self:
        if (
            self.min_hours is not None
            and self.max_hours is not None
            and self.min_hours > self.max_hours
        ):
            raise ValueError(
                f"min_hours ({self.min_hours:g}) must not exceed max_hours ({self.max_hours:g})"
            )
        return self

    def facet_names(self) -> tuple[str, ...]:
        names = [f.strip() for f in self.facets.split(",") if f.strip()]
        return tuple(dict.fromkeys(names))

    def sort_key(self) -> tuple[str, Literal["asc", "desc"]] | None:
        if self.sort is None:
            return None
        field, _, order = self.sort.partition(":")
        return field, "asc" if order == "asc" else "desc"


class SuggestParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = ""


class HitRead(BaseModel):
    code: str
    title: str
    title_highlighted: str = Field(
        description="HTML: the title, escaped, with <em> around matches."
    )
    category: str
    series: str | None
    subject: str
    hours: float
    year: int
    tags: list[str]
    base: str
    delivery: str
    score: float | None = Field(description="Relevance, when ranked by relevance.")


class SearchResponse(BaseModel):
    hits: list[HitRead]
    total: int
    page: int
    page_size: int
    facets: dict[str, dict[str, int]]
    took_ms: float
    backend: str


class SuggestionRead(BaseModel):
    code: str
    title: str
    title_highlighted: str


class SuggestResponse(BaseModel):
    suggestions: list[SuggestionRead]
    took_ms: float


class ReindexResponse(BaseModel):
    result: str
