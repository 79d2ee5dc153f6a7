#!/usr/bin/env python3
"""Compatibility check: drive a caisse server with lomi.'s official Python SDK, unchanged.

Usage:
    pip install -r tests/sdk/requirements.txt
    python3 tests/sdk/lomi_sdk_check.py --base-url http://127.0.0.1:PORT/v1 --api-key sk_test_...

Using lomi.CheckoutSessionsApi (the *_with_http_info variants, so that the raw
bodies and status codes can be checked), it:
  1. creates a checkout session (XOF 10000, title, https URLs, metadata,
     quantity 2, allow_quantity) and expects 201,
  2. retrieves it (200), 3. lists sessions with limit/offset/sort (200,
     {"data": [...], "pagination": {limit, offset, total}}),
  4. updates its title (PATCH, 200), 5. deletes it (204, empty body),
  6. retrieves it again and expects status "expired",
  7. expects 404 for an unknown id and 401 for a bad API key (SDK exceptions).
Every JSON body received is also parsed with CheckoutSessions.from_json (and the
list body with ListCheckoutSessions200Response.from_json). It prints one line
per step and exits 1 at the first failure.
"""
import argparse
import json
import sys
import uuid

import lomi
from lomi.exceptions import ApiException, NotFoundException, UnauthorizedException
from lomi.models.checkout_sessions import CheckoutSessions
from lomi.models.checkout_sessions_create import CheckoutSessionsCreate
from lomi.models.checkout_sessions_update import CheckoutSessionsUpdate
from lomi.models.list_checkout_sessions200_response import ListCheckoutSessions200Response


def fail(step, msg):
    print(f"FAIL {step}: {msg}")
    sys.exit(1)


def check(step, cond, msg):
    if not cond:
        fail(step, msg)


def parse_session(step, raw):
    """Parse a raw response body as the SDK's CheckoutSessions model."""
    text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
    try:
        check(step, isinstance(json.loads(text), dict), f"body is not a JSON object: {text[:200]}")
        return CheckoutSessions.from_json(text)
    except ValueError as e:  # json.JSONDecodeError and pydantic.ValidationError
        fail(step, f"CheckoutSessions.from_json rejected body: {e}\nbody: {text[:500]}")


def call(step, fn, *args, expect_status, **kwargs):
    try:
        resp = fn(*args, **kwargs)
    except ApiException as e:
        fail(step, f"HTTP {e.status}: {e.body}")
    except ValueError as e:  # SDK-side validation/deserialization error
        fail(step, f"SDK could not handle the response: {e}")
    check(step, resp.status_code == expect_status,
          f"expected HTTP {expect_status}, got {resp.status_code}: {resp.raw_data[:300]!r}")
    return resp


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8080/v1")
    ap.add_argument("--api-key", required=True, help="secret key, sent as X-API-KEY")
    args = ap.parse_args()

    config = lomi.Configuration(host=args.base_url.rstrip("/"), api_key={"ApiKeyAuth": args.api_key})
    api = lomi.CheckoutSessionsApi(lomi.ApiClient(config))

    # 1. create
    step = "create"
    body = CheckoutSessionsCreate(
        currency_code="XOF", amount=10000, title="SDK check order",
        public_description="created by lomi_sdk_check.py",
        success_url="https://merchant.example/success", cancel_url="https://merchant.example/cancel",
        metadata={"order_id": "sdk-42", "source": "lomi-python"}, quantity=2, allow_quantity=True,
    )
    resp = call(step, api.create_checkout_session_with_http_info, body, expect_status=201)
    created = parse_session(step, resp.raw_data)
    check(step, isinstance(resp.data, CheckoutSessions), "SDK returned no CheckoutSessions object")
    check(step, created.checkout_session_id is not None, "checkout_session_id missing")
    for field, want in [("amount", 10000), ("currency_code", "XOF"), ("quantity", 2), ("allow_quantity", True),
                        ("title", "SDK check order"), ("status", "open"),
                        ("metadata", {"order_id": "sdk-42", "source": "lomi-python"})]:
        check(step, getattr(created, field) == want, f"{field}: expected {want!r}, got {getattr(created, field)!r}")
    sid = str(created.checkout_session_id)
    print(f"ok   create: 201, checkout_session_id={sid}, status={created.status}")

    # 2. retrieve
    step = "retrieve"
    resp = call(step, api.retrieve_checkout_session_with_http_info, sid, expect_status=200)
    got = parse_session(step, resp.raw_data)
    check(step, str(got.checkout_session_id) == sid, f"wrong session returned: {got.checkout_session_id}")
    check(step, got.amount == 10000 and got.title == "SDK check order", f"fields differ from create: {got}")
    print(f"ok   retrieve: 200, title={got.title!r}, amount={got.amount}")

    # 3. list (the SDK exposes limit, offset and sort only; no status filter)
    step = "list"
    resp = call(step, api.list_checkout_sessions_with_http_info, limit=10, offset=0, sort="created_at:desc",
                expect_status=200)
    text = resp.raw_data.decode("utf-8")
    try:
        page = ListCheckoutSessions200Response.from_json(text)
    except ValueError as e:
        fail(step, f"ListCheckoutSessions200Response.from_json rejected body: {e}\nbody: {text[:500]}")
    check(step, page.data is not None and page.pagination is not None, "body needs both 'data' and 'pagination'")
    for item in json.loads(text)["data"]:
        parse_session(step, json.dumps(item))
    p = page.pagination
    check(step, (p.limit, p.offset) == (10, 0) and p.total is not None and p.total >= 1, f"bad pagination: {p}")
    check(step, any(str(s.checkout_session_id) == sid for s in page.data), "created session not in first page")
    check(step, len(page.data) <= 10, f"limit=10 ignored: got {len(page.data)} items")
    print(f"ok   list: 200, {len(page.data)} item(s), pagination={p.to_dict()}")

    # 4. update
    step = "update"
    resp = call(step, api.update_checkout_session_with_http_info, sid,
                CheckoutSessionsUpdate(title="SDK check order (renamed)"), expect_status=200)
    upd = parse_session(step, resp.raw_data)
    check(step, upd.title == "SDK check order (renamed)", f"title not updated: {upd.title!r}")
    check(step, upd.amount == 10000, f"untouched field changed: amount={upd.amount!r}")
    print(f"ok   update: 200, title={upd.title!r}")

    # 5. delete
    step = "delete"
    resp = call(step, api.delete_checkout_session_with_http_info, sid, expect_status=204)
    check(step, not resp.raw_data, f"204 must have an empty body, got {resp.raw_data[:200]!r}")
    print("ok   delete: 204, empty body")

    # 6. retrieve after delete
    step = "retrieve-after-delete"
    resp = call(step, api.retrieve_checkout_session_with_http_info, sid, expect_status=200)
    gone = parse_session(step, resp.raw_data)
    check(step, gone.status == "expired", f"expected status 'expired', got {gone.status!r}")
    print(f"ok   retrieve-after-delete: 200, status={gone.status}")

    # 7. errors are surfaced as the SDK's typed exceptions
    step = "not-found"
    try:
        api.retrieve_checkout_session(str(uuid.uuid4()))
        fail(step, "retrieving an unknown id did not fail")
    except NotFoundException as e:
        print(f"ok   not-found: 404 -> NotFoundException, body={e.body}")
    except ApiException as e:
        fail(step, f"expected 404, got HTTP {e.status}: {e.body}")
    step = "bad-key"
    bad = lomi.CheckoutSessionsApi(lomi.ApiClient(lomi.Configuration(
        host=config.host, api_key={"ApiKeyAuth": "sk_test_definitely_not_valid"})))
    try:
        bad.list_checkout_sessions()
        fail(step, "request with an invalid API key did not fail")
    except UnauthorizedException as e:
        print(f"ok   bad-key: 401 -> UnauthorizedException, body={e.body}")
    except ApiException as e:
        fail(step, f"expected 401, got HTTP {e.status}: {e.body}")

    print("PASS all lomi SDK checks")


if __name__ == "__main__":
    main()
