"""Two hot spots of argilla-server 2.8's record logging, removed without changing what it does.

Runs inside the server venv (imported by `launcher.py`). Profiling `dataset.records.log` against
the local server showed most of the time in argilla's own Python, not in SQL:
- `Question.parsed_settings` / `MetadataProperty.parsed_settings` build a new pydantic
  `TypeAdapter` (a whole validator) on every call, i.e. for every suggestion and metadata value
  of every record. One adapter per type gives the same validation.
- every created or updated record builds a webhook event (a dataset query with five eager
  loads and a full record dump) before `enqueue_notify_events` finds that no webhook is enabled
  and drops it. Checking for a subscribed, enabled webhook first is the same outcome, minus the work.
"""

from argilla_server.bulk import records_bulk
from argilla_server.contexts import distribution
from argilla_server.contexts.webhooks import list_enabled_webhooks
from argilla_server.models.database import (
    MetadataProperty,
    MetadataPropertySettings,
    Question,
    QuestionSettings,
)
from pydantic import TypeAdapter

_QUESTION_SETTINGS = TypeAdapter(QuestionSettings)
_METADATA_SETTINGS = TypeAdapter(MetadataPropertySettings)
_notify_record_event = records_bulk.notify_record_event_v1


async def _notify_record_event_if_subscribed(db, record_event, record):
    if not any(record_event in webhook.events for webhook in await list_enabled_webhooks(db)):
        return []
    return await _notify_record_event(db, record_event, record)


def install() -> None:
    Question.parsed_settings = property(lambda self: _QUESTION_SETTINGS.validate_python(self.settings))
    MetadataProperty.parsed_settings = property(
        lambda self: _METADATA_SETTINGS.validate_python(self.settings)
    )
    records_bulk.notify_record_event_v1 = _notify_record_event_if_subscribed
    distribution.notify_record_event_v1 = _notify_record_event_if_subscribed
