#!/usr/bin/env python3
"""Compatibility check: drive a caisse server with lomi's newer SDK (`lomi-sdk` 1.3.0 on PyPI,
the `LomiClient` class), unchanged.

Usage:
    pip install --target DIR -r tests/sdk/requirements-lomi-sdk.txt
    PYTHONPATH=DIR python3 tests/sdk/lomi_sdk_client_check.py \
        --server http://127.0.0.1:PORT --api-key sk_test_...

The SDK calls hyphenated paths (`/checkout-sessions`, `/discount-coupons`, `/payment-links`)
under its `base_url`. The check points it at the server with `/v1` and without (lomi's own
server documents paths without it) and, at each, lists and gets checkout sessions, discount
coupons, webhooks, products and payment links, expects LomiNotFoundError for an unknown id and LomiAuthError for a bad
key. The objects to get are made first over plain HTTP (the SDK only reads). It prints one line
per step and exits 1 at the first failure.
"""
import argparse
import json
import sys
import urllib.request
import uuid

from lomi import LomiClient, LomiAuthError, LomiNotFoundError


def fail(step, msg):
    print(f"FAIL {step}: {msg}")
    sys.exit(1)


def check(step, cond, msg):
    if not cond:
        fail(step, msg)


def post(server, key, path, body):
    req = urllib.request.Request(
        f"{server}/v1{path}",
        data=json.dumps(body).encode(),
        headers={"X-API-KEY": key, "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req) as res:
        check(f"POST {path}", res.status == 201, f"status {res.status}")
        return json.loads(res.read())


def listed(step, page, key, wanted):
    check(step, isinstance(page, dict) and isinstance(page.get("data"), list),
          f"not a page: {str(page)[:200]}")
    check(step, "pagination" in page, "no pagination")
    check(step, any(item.get(key) == wanted for item in page["data"]), f"{wanted} not listed")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--api-key", required=True)
    args = parser.parse_args()
    server, key = args.server.rstrip("/"), args.api_key

    session = post(server, key, "/checkout_sessions",
                   {"amount": 10000, "currency_code": "XOF", "title": "Pagne wax"})
    coupon = post(server, key, "/discount_coupons",
                  {"code": "SDK" + uuid.uuid4().hex[:8].upper(), "discount_type": "percentage",
                   "discount_percentage": 10})
    webhook = post(server, key, "/webhooks", {"url": "https://shop.example/hooks"})
    product = post(server, key, "/products", {"name": "Pagne wax"})
    link = post(server, key, "/payment_links",
                {"title": "Pagne wax", "amount": 10000, "currency_code": "XOF"})
    print("ok   made a session, a coupon, a webhook, a product and a link over HTTP")

    for base in (f"{server}/v1", server):
        client = LomiClient(key, base_url=base)
        step = f"{base} checkout_sessions"
        sid = session["checkout_session_id"]
        listed(step, client.checkout_sessions.list(limit=100), "checkout_session_id", sid)
        got = client.checkout_sessions.get(sid)
        check(step, got.get("checkout_session_id") == sid and got.get("amount") == 10000,
              f"got {str(got)[:200]}")
        step = f"{base} discount_coupons"
        cid = coupon["coupon_id"]
        listed(step, client.discount_coupons.list(), "coupon_id", cid)
        check(step, client.discount_coupons.get(cid).get("code") == coupon["code"], "wrong coupon")
        step = f"{base} webhooks"
        wid = webhook["webhook_id"]
        listed(step, client.webhooks.list(), "webhook_id", wid)
        check(step, client.webhooks.get(wid).get("url") == webhook["url"], "wrong webhook")
        step = f"{base} products"
        pid = product["product_id"]
        listed(step, client.products.list(), "product_id", pid)
        check(step, client.products.get(pid).get("name") == "Pagne wax", "wrong product")
        step = f"{base} payment_links"
        lid = link["link_id"]
        listed(step, client.payment_links.list(), "link_id", lid)
        check(step, client.payment_links.get(lid).get("url") == link["url"], "wrong link")
        step = f"{base} errors"
        try:
            client.checkout_sessions.get(str(uuid.uuid4()))
            fail(step, "an unknown session was found")
        except LomiNotFoundError:
            pass
        try:
            LomiClient("sk_test_wrong", base_url=base).checkout_sessions.list()
            fail(step, "a wrong key was accepted")
        except LomiAuthError:
            pass
        print(f"ok   {base}: sessions, coupons, webhooks, products, links, 404 and 401")


if __name__ == "__main__":
    main()
