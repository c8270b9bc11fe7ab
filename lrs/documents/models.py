"""Beanie documents of the document resources, keyed by their full identity."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import Document
from pymongo import ASCENDING, IndexModel


class Kind(StrEnum):
    state = "state"
    activity_profile = "activity_profile"
    agent_profile = "agent_profile"


class StoredDocument(Document):
    """One State or Profile document: identity, content byte for byte, and its version.

    Identity: the kind, then activityId (State, Activity Profile), the agent's IFI
    (State, Agent Profile), the registration (State, "" when none) and the document id.
    """

    kind: Kind
    activity_id: str = ""
    agent: str = ""
    registration: str = ""
    document_id: str
    content: bytes
    content_type: str
    etag: str  # SHA-1 of the content in hexadecimal (Communication 3.1)
    updated: datetime
    updated_us: int

    class Settings:
        name = "xapi_documents"
        indexes = [
            # service.get/put/post/delete: one document by its full identity.
            IndexModel(
                [
                    ("kind", ASCENDING),
                    ("activity_id", ASCENDING),
                    ("agent", ASCENDING),
                    ("registration", ASCENDING),
                    ("document_id", ASCENDING),
                ],
                unique=True,
                name="identity_unique",
            ),
            # service.ids/delete_all: the documents of one context, updated since a time.
            IndexModel(
                [
                    ("kind", ASCENDING),
                    ("activity_id", ASCENDING),
                    ("agent", ASCENDING),
                    ("registration", ASCENDING),
                    ("updated_us", ASCENDING),
                ],
                name="context_updated",
            ),
        ]


class ActivityRecord(Document):
    """The canonical definition of an Activity, merged from the statements that carried it
    (Communication 2.5); language maps are merged per language, other fields replaced."""

    activity_id: str
    definition: str  # JSON text: extension keys are IRIs, which MongoDB field names dislike
    updated: datetime

    class Settings:
        name = "xapi_activities"
        # directory.activity: one activity by id.
        indexes = [IndexModel([("activity_id", ASCENDING)], unique=True, name="activity_unique")]


DOCUMENTS = (StoredDocument, ActivityRecord)
