"""A corpus of hostile input, sent to every operation the OpenAPI schema documents.

The schema is generated in process, so a new endpoint, parameter or body field is attacked the
day it appears, without anyone adding it here. Each answer must be JSON, an error with its
"detail" and "code", never a 5xx; refusals are 4xx (a typed query parameter or a path id
always), and nothing a hostile request carried changes a row.
See docs/security.md, "Hostile input"."""

import json
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core.cache import caches
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import RevokedAccessToken, User
from accounts.services import token_pair_create
from accounts.tests.factories import PASSWORD, UserFactory
from bookings.models import Booking, IdempotencyKey
from bookings.tests.factories import BookingFactory
from calendars.feeds import ical_export_rotate
from calendars.models import Hold, IcalFeed
from core.api.fields import text_pattern
from core.stays import utc_today
from photos.models import Photo
from photos.tests.factories import PhotoFactory
from properties.models import Property
from properties.services import amenity_vocabulary_ensure
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
OPERATIONS = [
    (method.upper(), path, operation)
    for path, operations in SCHEMA["paths"].items()
    for method, operation in operations.items()
]

# JSON text substituted for one body field at a time (raw, so that literals json.dumps would
# never write, such as NaN, 1e-16384 or a lone surrogate, reach the parser).
HOSTILE_JSON_VALUES = {
    "tiny exponent": "1e-16384",
    "huge negative exponent": "-1e200000",
    "float overflow": "1e400",
    "5000-digit integer": "9" * 5000,
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "Arabic-Indic date": json.dumps("٢٠٢٧-٠٦-١٠"),
    "fullwidth number": json.dumps("７５"),
    "Arabic-Indic digit": json.dumps("٥"),
    "10k-element array": "[" + ",".join(["1"] * 10_000) + "]",
    "30-deep array": "[" * 30 + "]" * 30,
    "object": '{"a": {"b": 1}}',
    "invisible characters": json.dumps("Nai\u200drobi\u00ad\u202ex"),
    "200k-character string": json.dumps("x" * 200_000),
    "null byte": json.dumps("a\x00b"),
    "lone surrogate": '"\\ud800"',
}
# Digits of other scripts are hostile where a number or a date is expected, and plain text in a
# title or a name ("٥" is a fine title).
TEXT_VALUES = {"Arabic-Indic date", "fullwidth number", "Arabic-Indic digit"}
# A password is an opaque secret: any visible or invisible character in it is the user's business.
ACCEPTED_BODY_VALUES = {
    ("password", "invisible characters"),
    ("new_password", "invisible characters"),
}
# page_size above 20 is capped, as documented, however many digits it has.
ACCEPTED_QUERY_VALUES = {("page_size", "30-digit number")}

# Whole bodies, refused before any field is looked at: each must be exactly a 400.
HOSTILE_BODIES = {
    "1000-deep arrays": "[" * 1000 + "]" * 1000,
    "1000-deep objects": '{"a":' * 1000 + "1" + "}" * 1000,
    "33-deep value in an extra field": None,  # built from the operation's valid body
    "NaN": "NaN",
    "10k-element array": "[" + ",".join(["0"] * 10_000) + "]",
    "lone surrogate": '"\\ud800"',
    "not UTF-8": b"\xff\xfe\x00{",
    "truncated": '{"a": ',
}

HOSTILE_QUERY_VALUES = {
    "tiny exponent": "1e-16384",
    "huge negative exponent": "-1e200000",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "Arabic-Indic date": "٢٠٢٧-٠٦-١٠",
    "fullwidth number": "５",
    "superscript two": "²",
    "30-digit number": "9" * 30,
    "invisible characters": "a\u202eb\u200d",
    "3000-character string": "x" * 3000,
    "null byte": "a\x00b",
}
HOSTILE_PATH_IDS = ["٥", "５", "1e3", "-1", "9" * 19, "1.0", "NaN"]
HOSTILE_HEADER_VALUES = ["٥", "a\u202eb", "x" * 300, "a b", ""]


def _resolve(schema: dict) -> dict:
    if "$ref" in schema:
        return SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _body_schema(operation: dict) -> dict | None:
    content = operation.get("requestBody", {}).get("content", {})
    # JSON bodies only: the photo upload's multipart body has its own tests (photos/tests/).
    json_body = content.get("application/json")
    return _resolve(json_body["schema"]) if json_body else None


# The patterns every free-text field carries (no NUL; not only whitespace): still free text.
FREE_TEXT_PATTERNS = {text_pattern(allow_blank=True), text_pattern(allow_blank=False)}


def _is_typed(schema: dict) -> bool:
    """A parameter whose every valid value has a shape (not free text)."""
    schema = schema.get("items", schema) if schema.get("type") == "array" else schema
    if "oneOf" in schema:  # drf-spectacular's "pattern, or blank" for optional text
        branches = [branch for branch in schema["oneOf"] if branch.get("maxLength") != 0]
        return all(_is_typed(branch) for branch in branches)
    if schema.get("type") != "string" or {"enum", "format"} & set(schema):
        return True
    return "pattern" in schema and schema["pattern"] not in FREE_TEXT_PATTERNS


def _sample(schema: dict):
    """A valid value for a body field nobody described below (a new endpoint's)."""
    schema = _resolve(schema)
    if "oneOf" in schema:
        return _sample(schema["oneOf"][0])
    if "enum" in schema:
        return schema["enum"][0]
    if schema.get("format") == "date":
        return str(utc_today() + timedelta(days=40))
    if schema.get("format") == "email":
        return "new-address@example.com"
    return {"integer": 1, "number": 1, "boolean": True, "array": [], "object": {}}.get(
        str(schema.get("type")), "valid_text"
    )


class World:
    """The rows a hostile request could touch, owned by the signed-in user, and a valid body
    for each operation, so that the hostile part is the only thing wrong with a request."""

    def __init__(self):
        amenity_vocabulary_ensure()  # GET /api/amenities/{code}/ reads "wifi"
        self.user = UserFactory.create()
        self.password_hash = self.user.password
        self.listing = PropertyFactory.create(owner=self.user)
        self.booking = BookingFactory.create(guest=self.user, property=self.listing)
        # What the host's accept and decline act on (the user is guest and host alike here).
        self.request = BookingFactory.create(
            guest=self.user,
            property=self.listing,
            status="pending",
            check_in=utc_today() + timedelta(days=40),
            check_out=utc_today() + timedelta(days=42),
        )
        self.other_listing = PropertyFactory.create()
        self.photo = PhotoFactory.create(property=self.listing, position=0)
        self.block = Hold.objects.create(
            property=self.listing,
            kind=Hold.Kind.BLOCK,
            start=utc_today() + timedelta(days=50),
            end=utc_today() + timedelta(days=52),
        )
        # A feed whose fetch is refused before any network (a loopback address, private
        # addresses refused as in production): a sync answers at once with `last_error`.
        self.feed = IcalFeed.objects.create(property=self.listing, url="http://127.0.0.1:9/a.ics")
        _, self.ical_token = ical_export_rotate(listing=self.listing)
        self.sequence = 0
        # One client: each new one loads the middleware again (WhiteNoise scans every file).
        self.api_client = APIClient()
        self.api_client.raise_request_exception = False

    def url(self, path: str, **overrides) -> str:
        ids: dict[str, int | str] = {
            "id": self.booking.pk if path.startswith("/api/bookings/") else self.listing.pk
        }
        if path.endswith(("/accept/", "/decline/")):
            ids["id"] = self.request.pk
        ids["property_id"] = self.listing.pk
        ids["code"] = "wifi"  # an amenity the migrations seed
        ids["photo_id"] = self.photo.pk
        ids["block_id"] = self.block.pk
        ids["feed_id"] = self.feed.pk
        ids["token"] = self.ical_token
        return path.format(**{**ids, **overrides})

    def valid_body(self, method: str, path: str, schema: dict, target: str = "") -> dict:
        self.sequence += 1  # a fresh name each time: an accepted registration takes its own
        start = utc_today() + timedelta(days=60 + 7 * self.sequence)
        known = {
            "username": f"hostile_{self.sequence}",
            "email": f"hostile{self.sequence}@example.com",
            "password": PASSWORD,
            "current_password": PASSWORD,
            "new_password": "another-correct-horse",
            "refresh": str(token_pair_create(user=self.user)),
            "property_id": self.other_listing.pk,
            "check_in": str(start),
            "check_out": str(start + timedelta(days=2)),
            "start": str(start),
            "end": str(start + timedelta(days=2)),
            "title": "A title",
            "location": "Nairobi",
            "price_per_night": 75,
            "photo_ids": [self.photo.pk],
            "edits": [{"start": str(start), "end": str(start + timedelta(days=2)), "closed": True}],
            "url": f"https://calendar{self.sequence}.example.com/feed.ics",
        }
        if path == "/api/login/":  # by username, or by email when the email is under attack
            known["username"] = self.user.username
            known["email"] = self.user.email
        body = {
            name: known.get(name, _sample(field))
            for name, field in schema.get("properties", {}).items()
            if name in schema.get("required", []) or name in known
        }
        if path == "/api/login/":
            body.pop("username" if target == "email" else "email", None)
        if path == "/api/logout/":
            body.pop("refresh", None)  # a valid one would really log out
        return body

    def client(self) -> APIClient:
        # A fresh access token for every request: an accepted logout must not turn the rest
        # of the corpus into 401s. Throttle counters are cleared for the same reason.
        for cache in caches.all():
            cache.clear()
        token = token_pair_create(user=self.user).access_token
        self.api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return self.api_client

    def rows(self) -> dict:
        return {
            "users": list(User.objects.order_by("pk").values_list("pk", "username", "email")),
            "user": list(User.objects.filter(pk=self.user.pk).values()),
            "properties": list(Property.all_objects.order_by("pk").values()),
            "bookings": list(Booking.objects.order_by("pk").values()),
            "photos": list(Photo.objects.order_by("pk").values()),
            "idempotency_keys": IdempotencyKey.objects.count(),
            "revoked": RevokedAccessToken.objects.count(),
            "blacklisted": BlacklistedToken.objects.count(),
        }


def _check(response, case: str, problems: list, *, statuses=range(400, 500)) -> None:
    if response.status_code == 204 and response.status_code in statuses:
        return
    if (
        200 in statuses
        and response.status_code == 200
        and response["Content-Type"].startswith("text/calendar")
    ):
        return  # GET /api/ical/{token}.ics: the one answer documented as not JSON
    try:
        body = response.json()
    except (ValueError, TypeError):
        problems.append(f"{case}: {response.status_code} is not JSON")
        return
    if response.status_code not in statuses:
        problems.append(f"{case}: status {response.status_code} {str(body)[:200]}")
    elif response.status_code >= 300 and not {"detail", "code"} <= set(body):
        problems.append(f"{case}: not the error shape: {str(body)[:200]}")


def _send(client, method, url, *, data=None, headers=None):
    kwargs = {"content_type": "application/json"} if data is not None else {}
    return getattr(client, method.lower())(url, data=data, **kwargs, **(headers or {}))


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    OPERATIONS,
    ids=[f"{method} {path}" for method, path, _ in OPERATIONS],
)
def test_hostile_input_is_refused_without_a_5xx_or_a_write(method, path, operation):
    world = World()
    problems: list[str] = []
    before = world.rows()
    url = world.url(path)
    body_schema = _body_schema(operation)
    parameters = operation.get("parameters", [])
    sent = 0

    def settle(case: str, response, *, accepted: bool) -> None:
        nonlocal before, sent
        sent += 1
        after = world.rows()
        if accepted and 200 <= response.status_code < 300:
            # A documented acceptance may write (a registration, a new password); the password
            # is put back so that the next valid body still confirms it.
            User.objects.filter(pk=world.user.pk).update(password=world.password_hash)
            before = world.rows()
        elif after != before:
            problems.append(f"{case}: rows changed ({response.status_code})")
            before = after

    if body_schema is not None:
        # The valid body is accepted: whatever is refused below is refused for its hostile part.
        valid = world.valid_body(method, path, body_schema)
        response = _send(world.client(), method, url, data=json.dumps(valid))
        _check(response, f"valid body {valid}", problems, statuses=range(200, 300))
        settle("valid body", response, accepted=True)
        for name in body_schema.get("properties", {}):
            for label, fragment in HOSTILE_JSON_VALUES.items():
                valid = world.valid_body(method, path, body_schema, target=name)
                raw = json.dumps({**valid, name: "\x00HOSTILE\x00"}).replace(
                    json.dumps("\x00HOSTILE\x00"), fragment
                )
                field = _resolve(body_schema["properties"][name])
                accepted = (name, label) in ACCEPTED_BODY_VALUES or (
                    label in TEXT_VALUES and not _is_typed(field)
                )
                response = _send(world.client(), method, url, data=raw)
                case = f"body field {name} = {label}"
                statuses = range(200, 500) if accepted else range(400, 500)
                _check(response, case, problems, statuses=statuses)
                settle(case, response, accepted=accepted)
        for label, hostile_body in HOSTILE_BODIES.items():
            if hostile_body is None:
                valid = world.valid_body(method, path, body_schema)
                hostile_body = json.dumps({**valid, "extra": "\x00DEEP\x00"}).replace(
                    json.dumps("\x00DEEP\x00"), "[" * 33 + "]" * 33
                )
            response = _send(world.client(), method, url, data=hostile_body)
            _check(response, f"body {label}", problems, statuses={400})
            settle(f"body {label}", response, accepted=False)

    for parameter in parameters:
        name, location = parameter["name"], parameter["in"]
        if location == "query":
            typed = _is_typed(parameter["schema"])
            for label, value in HOSTILE_QUERY_VALUES.items():
                response = _send(world.client(), method, f"{url}?{name}={quote(value)}")
                case = f"query {name} = {label}"
                accepted = not typed or (name, label) in ACCEPTED_QUERY_VALUES
                _check(response, case, problems, statuses=range(200 if accepted else 400, 500))
                settle(case, response, accepted=False)
        elif location == "path":
            for value in HOSTILE_PATH_IDS:
                response = _send(world.client(), method, world.url(path, **{name: quote(value)}))
                case = f"path {name} = {value!r}"
                _check(response, case, problems, statuses={404})
                settle(case, response, accepted=False)
        elif location == "header":
            header = "HTTP_" + name.upper().replace("-", "_")
            for value in HOSTILE_HEADER_VALUES:
                header_body = world.valid_body(method, path, body_schema) if body_schema else None
                response = _send(
                    world.client(),
                    method,
                    url,
                    data=json.dumps(header_body) if header_body is not None else None,
                    headers={header: value},
                )
                case = f"header {name} = {value[:20]!r}"
                _check(response, case, problems)
                settle(case, response, accepted=False)

    if method == "GET":  # an unknown parameter: ignored or refused, never a crash
        for label, value in HOSTILE_QUERY_VALUES.items():
            response = _send(world.client(), method, f"{url}?unknown={quote(value)}")
            _check(response, f"unknown parameter = {label}", problems, statuses=range(200, 500))
            settle(f"unknown parameter = {label}", response, accepted=False)

    assert not problems, "\n".join(problems)
    assert sent > 0


def test_the_corpus_reaches_every_kind_of_input():
    # Guards the test above against a schema it can no longer read (it would pass vacuously).
    kinds = {
        parameter["in"]
        for _, _, operation in OPERATIONS
        for parameter in operation.get("parameters", [])
    }
    bodies = [path for _, path, operation in OPERATIONS if _body_schema(operation)]

    assert len(OPERATIONS) >= 19
    assert kinds == {"query", "path", "header"}
    assert len(bodies) >= 9
