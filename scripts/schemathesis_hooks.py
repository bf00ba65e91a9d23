"""Schemathesis hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

Negative data generation can put control characters (\\x00-\\x1f, \\x7f) into header values. Such a request is
not HTTP (RFC 9110, field-value): the HTTP/1.1 parser (hyper) refuses it with a bare `400`, `connection: close`,
before any numbind code runs, so no OpenAPI document can describe that answer. Those cases are skipped; every
request that is HTTP still reaches the services. So are cases that only add a header the operation does not declare.

Authentication, so that the happy paths are generated too and not only the refusals:
- the terminal API (`/v1/terminals...`): positive cases are sent as one test terminal (a fresh Ed25519 key, its
  terminal ID derived as `numbind_wire::TerminalId::from_public_key` does), registered on first use, and signed
  as `numbind_wire::request_signing` signs (Ed25519 over `NUMBIND-REQUEST-V1`, method, path and query as sent,
  terminal, timestamp, nonce and the body's SHA-256). Positive activation cases name the terminal's own
  activation, and long-polls wait 0 seconds (the request timeout is 5 s).
- the platform's OSS API (`/v1/oss/...`, client `oss`) and the OSS's platform API (`/v1/platform/...`, client
  `platform`): positive cases carry `NUMBIND-HMAC-SHA256` (`numbind_wire::component_auth`) with the shared secret
  in NUMBIND_SCHEMATHESIS_OSS_SECRET_FILE.
- the operator API: positive cases carry the admin token in NUMBIND_SCHEMATHESIS_OPERATOR_TOKEN.
Negative cases keep whatever schemathesis generated, so the refusal paths are exercised as before.
The session-tagged `binding-check` is not tagged here (it would need the X25519 session handshake): it is still
exercised on its refusal paths only.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time

import requests
import schemathesis
from nacl.signing import SigningKey

FIELD_VALUE = re.compile(r"^[\t\x20-\x7e\x80-\xff]*$")
BASE32_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DEVICE_MODEL = "Schemathesis STB"
# Headers of the documents' security schemes (not operation parameters): schemathesis may generate them.
SECURITY_HEADERS = {"authorization", "x-numbind-terminal", "x-numbind-timestamp", "x-numbind-nonce",
                    "x-numbind-signature", "x-numbind-session", "x-numbind-session-tag"}


def _base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _terminal_id_of(public_key: bytes) -> str:
    bits = int.from_bytes(hashlib.sha256(public_key).digest()[:10], "big")
    return "NB-" + "".join(BASE32_ALPHABET[(bits >> (index * 5)) & 0x1F] for index in reversed(range(16)))


class _Terminal:
    """The one test terminal: its key, its ID, and (once made) its activation."""

    def __init__(self):
        self.key = SigningKey(secrets.token_bytes(32))
        self.public_key = _base64url(bytes(self.key.verify_key))
        self.terminal_id = _terminal_id_of(bytes(self.key.verify_key))
        self.activation_id = None
        self.ready = False

    def signature_headers(self, method: str, path_and_query: str, body: bytes) -> dict:
        timestamp = str(int(time.time()))
        nonce = _base64url(secrets.token_bytes(16))
        digest = hashlib.sha256(body).hexdigest()
        canonical = f"NUMBIND-REQUEST-V1\n{method.upper()}\n{path_and_query}\n{self.terminal_id}\n{timestamp}\n{nonce}\n{digest}"
        signature = self.key.sign(canonical.encode()).signature
        return {
            "x-numbind-terminal": self.terminal_id,
            "x-numbind-timestamp": timestamp,
            "x-numbind-nonce": nonce,
            "x-numbind-signature": _base64url(signature),
        }

    def send(self, base_url: str, method: str, path: str, body: dict | None) -> dict:
        """A signed request outside schemathesis (to set the terminal up); returns the JSON answer."""
        payload = json.dumps(body).encode() if body is not None else b""
        headers = self.signature_headers(method, path, payload)
        headers["content-type"] = "application/json"
        response = requests.request(
            method, base_url + path, data=payload, headers=headers, verify=os.environ.get("NUMBIND_SCHEMATHESIS_CA"), timeout=10
        )
        response.raise_for_status()
        return response.json()

    def set_up(self, base_url: str) -> None:
        """Registers the terminal and asks for an activation, once."""
        if self.ready:
            return
        self.ready = True
        registration = {"terminal_id": self.terminal_id, "public_key": self.public_key, "device_model": DEVICE_MODEL}
        self.send(base_url, "POST", "/v1/terminals", registration)
        answer = self.send(base_url, "POST", f"/v1/terminals/{self.terminal_id}/activations", {})
        payload = json.loads(base64.urlsafe_b64decode(answer["offer"]["payload"] + "=" * (-len(answer["offer"]["payload"]) % 4)))
        self.activation_id = payload["activation_id"]


TERMINAL = _Terminal()


def _is_positive(case) -> bool:
    method = getattr(case, "data_generation_method", None)
    return method is None or getattr(method, "name", str(method)).lower().endswith("positive")


def _prepared(case):
    """The request exactly as `requests` will send it: the signed path and body must be those bytes."""
    kwargs = case.as_requests_kwargs()
    allowed = ("method", "url", "headers", "params", "json", "data", "files", "cookies")
    prepared = requests.Request(**{key: value for key, value in kwargs.items() if key in allowed}).prepare()
    body = prepared.body or b""
    return prepared, body if isinstance(body, bytes) else body.encode()


def _base_url(case) -> str:
    url = case.as_requests_kwargs()["url"]
    return url[: len(url) - len(case.formatted_path)]


@schemathesis.hook
def before_call(context, case):
    path = case.operation.path
    if not _is_positive(case):
        return
    token = os.environ.get("NUMBIND_SCHEMATHESIS_OPERATOR_TOKEN")
    if path.startswith("/v1/operator/") and token:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    # The demo merchant `numbind up` made: the payments API's positive cases call it as that merchant.
    merchant_token = os.environ.get("NUMBIND_SCHEMATHESIS_MERCHANT_TOKEN")
    if path.startswith("/v1/payments") and merchant_token:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {merchant_token}"}
    # Set only for the OSS's run: its admin API (every /v1 path but the platform's HMAC ones) wants its token. Given
    # to positive cases only, so that a negative case's own Authorization header is what the OSS sees.
    oss_admin_token = os.environ.get("NUMBIND_SCHEMATHESIS_OSS_ADMIN_TOKEN")
    if oss_admin_token and path.startswith("/v1/") and not path.startswith("/v1/platform/"):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {oss_admin_token}"}
    if path.startswith("/v1/terminals") and not path.endswith("/binding-check"):
        _sign_as_the_test_terminal(case, path)
    elif path.startswith("/v1/oss/"):
        _authorize_as_component(case, "oss")
    elif path.startswith("/v1/platform/"):
        _authorize_as_component(case, "platform")


def _sign_as_the_test_terminal(case, path: str) -> None:
    TERMINAL.set_up(_base_url(case))
    if case.path_parameters and "terminal_id" in case.path_parameters:
        case.path_parameters["terminal_id"] = TERMINAL.terminal_id
    if case.path_parameters and "activation_id" in case.path_parameters:
        case.path_parameters["activation_id"] = TERMINAL.activation_id
    if case.query and "wait_seconds" in case.query:
        case.query["wait_seconds"] = 0
    if path == "/v1/terminals" and isinstance(case.body, dict):
        case.body = {**case.body, "terminal_id": TERMINAL.terminal_id, "public_key": TERMINAL.public_key}
    prepared, body = _prepared(case)
    case.headers = {**(case.headers or {}), **TERMINAL.signature_headers(prepared.method, prepared.path_url, body)}


def _authorize_as_component(case, client: str) -> None:
    secret_file = os.environ.get("NUMBIND_SCHEMATHESIS_OSS_SECRET_FILE")
    if not secret_file:
        return
    with open(secret_file, encoding="utf-8") as file:
        secret = file.read().strip().encode()
    prepared, body = _prepared(case)
    timestamp = str(int(time.time()))
    canonical = f"NUMBIND-COMPONENT-V1\n{client}\n{prepared.method.upper()}\n{prepared.path_url}\n{timestamp}\n{hashlib.sha256(body).hexdigest()}"
    tag = hmac.new(secret, canonical.encode(), hashlib.sha256).digest()
    authorization = f"NUMBIND-HMAC-SHA256 client={client},ts={timestamp},sig={_base64url(tag)}"
    case.headers = {**(case.headers or {}), "authorization": authorization}


@schemathesis.hook
def filter_headers(context, headers):
    if not headers:
        return True
    # A negative case whose only "negation" is an extra header the operation does not declare (schemathesis 3.x
    # adds one, e.g. `0: `) is valid HTTP that every service rightly ignores; negative_data_rejection would then
    # report the 200 as accepted invalid data (schemathesis issues #2726 and #4762). Such cases are skipped.
    if context.operation is not None:
        declared = {parameter.name.lower() for parameter in context.operation.headers} | SECURITY_HEADERS
        if any(name.lower() not in declared for name in headers):
            return False
    return all(isinstance(value, str) and FIELD_VALUE.match(value) for value in headers.values())


@schemathesis.hook
def filter_cookies(context, cookies):
    if not cookies:
        return True
    return all(isinstance(value, str) and FIELD_VALUE.match(value) for value in cookies.values())
