"""Our csrf_token (core/csrf.py) is Django's token, made with one draw from the random source."""

from __future__ import annotations

import re
from collections import Counter

from django.middleware.csrf import CSRF_ALLOWED_CHARS, _unmask_cipher_token
from django.test import Client, RequestFactory

from core.csrf import csrf, masked, random_mask
from tests.fixtures import PASSWORD, host_of

SECRET = "aB3" * 10 + "zZ"


def test_a_masked_token_unmasks_to_its_secret_with_djangos_own_function():
    for _ in range(200):
        token = masked(SECRET)
        assert len(token) == 64 and set(token) <= set(CSRF_ALLOWED_CHARS)
        assert _unmask_cipher_token(token) == SECRET


def test_every_token_has_a_fresh_mask():
    assert len({masked(SECRET) for _ in range(100)}) == 100


def test_the_mask_draws_every_character_equally_often():
    counts = Counter(index for _ in range(2000) for index in random_mask())
    assert set(counts) == set(range(len(CSRF_ALLOWED_CHARS)))
    expected = 2000 * 32 / len(CSRF_ALLOWED_CHARS)  # about 1,032 each
    # Far wider than chance allows (sd ~32): a modulo bias would put 8 characters ~25% high.
    assert all(abs(count - expected) < 0.15 * expected for count in counts.values()), counts


def test_a_request_without_a_secret_gets_one_and_the_cookie_is_sent():
    request = RequestFactory().get("/")
    token = str(csrf(request)["csrf_token"])
    secret = request.META["CSRF_COOKIE"]
    assert len(secret) == 32 and request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
    assert _unmask_cipher_token(token) == secret


def test_the_token_in_a_page_passes_djangos_check_and_a_wrong_one_does_not(tenant):
    strict = Client(HTTP_HOST=host_of(tenant), enforce_csrf_checks=True)
    page = strict.get("/accounts/login/")
    token = (
        re.search(rb'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"', page.content).group(1).decode()
    )
    assert _unmask_cipher_token(token) == strict.cookies["csrftoken"].value
    wrong = strict.post(
        "/accounts/login/",
        {"username": "learner@acme.test", "password": PASSWORD, "csrfmiddlewaretoken": "x" * 64},
    )
    assert wrong.status_code == 403
    right = strict.post(
        "/accounts/login/",
        {"username": "learner@acme.test", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert right.status_code == 302


def test_every_secret_character_at_every_position_masks_right():
    """The byte-table arithmetic against Django's unmasking, for all 62 characters in each place."""
    chars = CSRF_ALLOWED_CHARS
    for shift in range(len(chars)):
        secret = "".join(chars[(shift + i) % len(chars)] for i in range(32))
        assert _unmask_cipher_token(masked(secret)) == secret
