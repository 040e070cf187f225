"""The API's spec for schemathesis, loaded at import without a database or a log-in (the served
spec needs one: see solocrm/api.py ``_signed_in_only``), then fuzzed against the WSGI app."""

from __future__ import annotations

import json

import schemathesis
from django.urls import reverse
from ninja.responses import NinjaJSONEncoder
from schemathesis.config import SchemathesisConfig

from solocrm.wsgi import application

SPEC = "/api/v1/openapi.json"


def spec() -> dict:
    """The spec exactly as /api/v1/openapi.json serves it (same JSON encoding)."""
    from solocrm.api import api

    reverse("api:openapi-json")  # builds the URLs, which the spec's paths are read from
    return json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1/"), cls=NinjaJSONEncoder))


def fuzzable(config: dict) -> schemathesis.schemas.BaseSchema:
    loaded = schemathesis.openapi.from_dict(spec(), config=SchemathesisConfig.from_dict(config))
    loaded.app = application
    loaded.location = SPEC
    return loaded
