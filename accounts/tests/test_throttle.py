"""Every sign-in surface waits per account and per address, escalating, per tenant (ADR 0070)."""

import re
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django_tenants.utils import schema_context

from accounts import throttle
from accounts.services import invitation_create
from tests.fixtures import PASSWORD, host_of

User = get_user_model()
FREE = 5  # SIGNIN_THROTTLE["FREE"]["signin"][0], failures per account before the first wait
ADDRESS_FREE = 20
WAIT = re.compile(r"Too many attempts; try again in (\d+) seconds?\.")


def _client(tenant, address: str) -> Client:
    return Client(HTTP_HOST=host_of(tenant) if tenant is not None else "localhost", REMOTE_ADDR=address)


def _sign_in(tenant, email: str, password: str, address: str = "198.51.100.1"):
    return _client(tenant, address).post("/accounts/login/", {"username": email, "password": password})


def _operator_sign_in(email: str, password: str, address: str = "198.51.100.2"):
    return _client(None, address).post(
        "/admin/login/", {"username": email, "password": password, "next": "/admin/"}
    )


def _wait_of(response) -> int:
    """The seconds a 429 page asks for (and proof it says so in words)."""
    assert response.status_code == 429
    match = WAIT.search(response.content.decode())
    assert match is not None, "the 429 page names no wait"
    return int(match.group(1))


def test_thirty_wrong_operator_passwords_hold_back_the_right_one_until_the_wait_passes(db, clock):
    with schema_context("public"):
        User.objects.create_superuser("root@lms.test", PASSWORD)
    for _ in range(30):
        response = _operator_sign_in("root@lms.test", "guess")
        if response.status_code == 429:
            clock.advance(_wait_of(response))
            response = _operator_sign_in("root@lms.test", "guess")
        assert response.status_code == 200
    refused = _operator_sign_in("root@lms.test", PASSWORD)
    wait = _wait_of(refused)
    assert wait == 900  # the account cap: doubling from 1 s reached it long ago
    assert "_auth_user_id" not in refused.client.session
    clock.advance(wait - 1)
    assert _operator_sign_in("root@lms.test", PASSWORD).status_code == 429
    clock.advance(1)
    response = _operator_sign_in("root@lms.test", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert connection.schema_name == "public"


def test_waits_double_from_one_second_up_to_the_cap(tenant, clock):
    with override_settings(SIGNIN_THROTTLE={**_settings(), "ACCOUNT_CAP_SECONDS": 8}):
        for _ in range(FREE):
            assert _sign_in(tenant, "learner@acme.test", "nope").status_code == 200
        waits = []
        for _ in range(6):
            wait = _wait_of(_sign_in(tenant, "learner@acme.test", "nope"))
            waits.append(wait)
            clock.advance(wait)
            assert _sign_in(tenant, "learner@acme.test", "nope").status_code == 200
    assert waits == [1, 2, 4, 8, 8, 8]


def test_a_throttled_account_does_not_lock_out_another_behind_the_same_address(tenant, clock):
    for _ in range(12):
        _sign_in(tenant, "learner@acme.test", "nope")
    assert _wait_of(_sign_in(tenant, "learner@acme.test", PASSWORD)) >= 1
    response = _sign_in(tenant, "admin@acme.test", PASSWORD)
    assert response.status_code == 302


def test_the_tenant_admin_sign_in_is_throttled(tenant, clock):
    client = _client(tenant, "198.51.100.9")
    login_url = client.get("/admin/", follow=True).redirect_chain[-1][0]
    assert login_url.startswith("/accounts/login/")
    for _ in range(FREE):
        assert client.post(login_url, {"username": "admin@acme.test", "password": "nope"}).status_code == 200
    response = client.post(login_url, {"username": "admin@acme.test", "password": PASSWORD})
    assert _wait_of(response) == 1
    clock.advance(1)
    assert client.post(login_url, {"username": "admin@acme.test", "password": PASSWORD}).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_success_resets_the_account_counter(tenant, clock):
    for _ in range(FREE - 1):
        _sign_in(tenant, "learner@acme.test", "nope")
    assert _sign_in(tenant, "learner@acme.test", PASSWORD).status_code == 302
    for _ in range(FREE):
        assert _sign_in(tenant, "learner@acme.test", "nope").status_code == 200
    assert _wait_of(_sign_in(tenant, "learner@acme.test", "nope")) == 1


def test_a_spray_over_many_accounts_is_slowed_per_address(tenant, clock):
    spray = "203.0.113.66"
    for n in range(ADDRESS_FREE):
        assert _sign_in(tenant, f"person{n}@acme.test", "Summer2026!", spray).status_code == 200
    assert _wait_of(_sign_in(tenant, "fresh@acme.test", "Summer2026!", spray)) == 1
    clock.advance(1)
    assert _sign_in(tenant, "fresh@acme.test", "Summer2026!", spray).status_code == 200
    assert _wait_of(_sign_in(tenant, "fresh2@acme.test", "Summer2026!", spray)) == 2
    # Someone else behind that address, with the right password, gets in once the wait passes.
    clock.advance(2)
    assert _sign_in(tenant, "instructor@acme.test", PASSWORD, spray).status_code == 302
    # Other addresses are untouched.
    assert _sign_in(tenant, "learner@acme.test", PASSWORD, "198.51.100.77").status_code == 302


def test_after_a_good_sign_in_the_next_person_behind_the_address_does_not_wait(tenant, clock):
    spray = "203.0.113.67"
    for n in range(ADDRESS_FREE):
        _sign_in(tenant, f"person{n}@acme.test", "Summer2026!", spray)
    assert _wait_of(_sign_in(tenant, "instructor@acme.test", PASSWORD, spray)) == 1
    clock.advance(1)
    assert _sign_in(tenant, "instructor@acme.test", PASSWORD, spray).status_code == 302
    assert _sign_in(tenant, "admin@acme.test", PASSWORD, spray).status_code == 302
    # The failures still count: the next wrong one sets a longer wait.
    assert _sign_in(tenant, "person0@acme.test", "Autumn2026!", spray).status_code == 200
    assert _wait_of(_sign_in(tenant, "learner@acme.test", PASSWORD, spray)) == 2


def test_address_counters_run_from_their_first_attempt_and_account_counters_from_their_last(tenant, clock):
    client = cache._cache.get_client(None, write=True)
    _sign_in(tenant, "learner@acme.test", "nope", "192.0.2.70")
    (address_key,) = client.scan_iter(match="*:throttle:signin:address:*")
    (account_key,) = client.scan_iter(match="*:throttle:signin:account:*")
    assert 3500 < client.ttl(address_key) <= 3600 and 86000 < client.ttl(account_key) <= 86400
    client.expire(address_key, 100)
    client.expire(account_key, 100)
    _sign_in(tenant, "learner@acme.test", "nope", "192.0.2.70")
    assert client.ttl(address_key) <= 100 and client.ttl(account_key) > 86000


def test_successful_sign_ins_from_one_address_never_wait(tenant, clock):
    for _ in range(ADDRESS_FREE + 5):
        assert _sign_in(tenant, "learner@acme.test", PASSWORD, "192.0.2.10").status_code == 302


def test_a_burst_of_parallel_guesses_gets_only_the_free_attempts(db, clock):
    passed, refused = [], []

    def guess():
        try:
            throttle.attempt(scope=throttle.SIGNIN, account="target@lms.test", address="192.0.2.50")
            passed.append(1)
        except throttle.Throttled:
            refused.append(1)

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(passed), len(refused)) == (FREE, 12 - FREE)


def test_password_reset_requests_are_throttled_per_email_without_telling_who_has_an_account(
    tenant, clock, mailoutbox, django_capture_on_commit_callbacks
):
    client = _client(tenant, "198.51.100.20")
    answers = {}
    for email in ("learner@acme.test", "nobody@acme.test"):
        with django_capture_on_commit_callbacks(execute=True):
            for _ in range(3):
                assert client.post("/accounts/password-reset/", {"email": email}).status_code == 302
            response = client.post("/accounts/password-reset/", {"email": email})
        assert _wait_of(response) == 1
        page = response.content.decode().replace(email, "EMAIL")
        answers[email] = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)
    assert answers["learner@acme.test"] == answers["nobody@acme.test"]
    assert [m.to for m in mailoutbox] == [["learner@acme.test"]] * 3
    clock.advance(1)
    assert client.post("/accounts/password-reset/", {"email": "learner@acme.test"}).status_code == 302


def test_password_reset_requests_are_throttled_per_address(tenant, clock):
    client = _client(tenant, "198.51.100.21")
    for n in range(10):
        assert client.post("/accounts/password-reset/", {"email": f"who{n}@acme.test"}).status_code == 302
    assert _wait_of(client.post("/accounts/password-reset/", {"email": "who-else@acme.test"})) == 1
    other = _client(tenant, "198.51.100.22")
    assert other.post("/accounts/password-reset/", {"email": "who-else@acme.test"}).status_code == 302


def test_guessed_password_reset_links_are_throttled(
    tenant, clock, mailoutbox, django_capture_on_commit_callbacks
):
    guesser = _client(tenant, "198.51.100.30")
    with schema_context(tenant.schema_name):
        from django.utils.encoding import force_bytes
        from django.utils.http import urlsafe_base64_encode

        uid = urlsafe_base64_encode(force_bytes(User.objects.get(email="learner@acme.test").pk))
    for n in range(FREE):
        response = guesser.get(f"/accounts/reset/{uid}/c0ffee-{n}/")
        assert response.status_code == 200 and not response.context["validlink"]
    assert _wait_of(guesser.get(f"/accounts/reset/{uid}/c0ffee-x/")) == 1
    # The person's own link, from their own address, works once the account's wait passes.
    clock.advance(1)
    owner = _client(tenant, "198.51.100.31")
    with django_capture_on_commit_callbacks(execute=True):
        owner.post("/accounts/password-reset/", {"email": "learner@acme.test"})
    path = re.search(r"http://acme\.localhost(?::\d+)?(/accounts/reset/\S+/)", mailoutbox[-1].body).group(1)
    page = owner.get(path, follow=True)
    assert page.status_code == 200 and page.context["validlink"]


def test_guessed_invitation_tokens_are_throttled_per_address(tenant, clock):
    with schema_context(tenant.schema_name):
        admin = User.objects.get(email="admin@acme.test")
        _invitation, link = invitation_create(actor=admin, email="invitee@acme.test")
    guesser = _client(tenant, "198.51.100.40")
    for n in range(ADDRESS_FREE):
        assert guesser.get(f"/accounts/invitations/guess-{n}/").status_code == 404
    assert _wait_of(guesser.get("/accounts/invitations/guess-x/")) == 1
    assert _client(tenant, "198.51.100.41").get("/" + link.split("/", 3)[3]).status_code == 200


def test_acme_counters_do_not_throttle_the_same_email_on_globex(tenant, other_tenant, clock):
    address = "198.51.100.50"
    for _ in range(FREE):
        _sign_in(tenant, "same@shared.test", "nope", address)
    assert _wait_of(_sign_in(tenant, "same@shared.test", "nope", address)) == 1
    assert _sign_in(other_tenant, "same@shared.test", "nope", address).status_code == 200

    acme, globex = _client(tenant, address), _client(other_tenant, address)
    for _ in range(3):
        acme.post("/accounts/password-reset/", {"email": "same@shared.test"})
    assert _wait_of(acme.post("/accounts/password-reset/", {"email": "same@shared.test"})) == 1
    assert globex.post("/accounts/password-reset/", {"email": "same@shared.test"}).status_code == 302

    keys = [k.decode() for k in cache._cache.get_client(None).scan_iter(match="*:throttle:*")]
    assert any(str(tenant.uuid) in k for k in keys) and any(str(other_tenant.uuid) in k for k in keys)
    assert all(str(tenant.uuid) in k or str(other_tenant.uuid) in k for k in keys)


@pytest.mark.parametrize(
    ("raw", "counted_as"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("", "unknown"),
    ],
)
def test_client_addresses_are_counted_by_host_or_ipv6_prefix(rf, raw, counted_as):
    assert throttle.client_address(rf.get("/", REMOTE_ADDR=raw)) == counted_as


def _settings() -> dict:
    from django.conf import settings

    return settings.SIGNIN_THROTTLE


def test_a_redis_outage_lets_people_sign_in_unthrottled(tenant, monkeypatch):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    with monkeypatch.context() as patch, schema_context(tenant.schema_name):
        patch.setattr(cache._cache, "get_client", lambda *args, **kwargs: dead)
        for _ in range(FREE + 2):
            throttle.attempt(scope=throttle.SIGNIN, account="learner@acme.test", address="192.0.2.60")
        throttle.succeeded(scope=throttle.SIGNIN, account="learner@acme.test", address="192.0.2.60")


PROXIES = ["10.0.0.0/8", "fd00::/8"]


@override_settings(TRUSTED_PROXIES=[])
def test_a_forwarded_for_header_is_ignored_when_no_proxy_is_trusted(rf):
    request = rf.get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert throttle.client_address(request) == "198.51.100.7"


@override_settings(TRUSTED_PROXIES=PROXIES)
def test_a_spoofed_forwarded_for_from_an_untrusted_address_is_ignored(rf):
    """A client talking to us directly names whoever it likes in the header: it is not read."""
    request = rf.get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.2")
    assert throttle.client_address(request) == "198.51.100.7"


@override_settings(TRUSTED_PROXIES=PROXIES)
def test_the_client_behind_two_trusted_proxies_is_the_right_most_untrusted_hop(rf):
    # The client sent a forged first entry; the edge proxy appended the client's real address,
    # the inner proxy the edge proxy's, and REMOTE_ADDR is the inner proxy.
    request = rf.get("/", REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR="192.0.2.66, 198.51.100.7, 10.0.0.2")
    assert throttle.client_address(request) == "198.51.100.7"


@override_settings(TRUSTED_PROXIES=PROXIES)
def test_an_ipv6_client_behind_a_trusted_proxy_is_still_counted_by_its_64(rf):
    one = rf.get("/", REMOTE_ADDR="fd00::1", HTTP_X_FORWARDED_FOR="2001:db8:1:2:3:4:5:6")
    other = rf.get("/", REMOTE_ADDR="fd00::1", HTTP_X_FORWARDED_FOR="[2001:db8:1:2:ffff::1]:4711")
    assert throttle.client_address(one) == throttle.client_address(other) == "2001:db8:1:2::/64"


@pytest.mark.parametrize(
    ("forwarded", "counted_as"),
    [
        ("not-an-address", "10.0.0.3"),  # the proxy's peer cannot be read: the proxy it is
        ("198.51.100.7, unknown, 10.0.0.2", "10.0.0.2"),  # the walk stops where it cannot read
        ("garbage, 198.51.100.7", "198.51.100.7"),  # left of the client: never looked at
        ("198.51.100.7:55123", "198.51.100.7"),  # a port is not part of the address
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("", "10.0.0.3"),
        (" , ,", "10.0.0.3"),
    ],
)
@override_settings(TRUSTED_PROXIES=PROXIES)
def test_a_malformed_forwarded_for_is_never_taken_for_a_client(rf, forwarded, counted_as):
    request = rf.get("/", REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR=forwarded)
    assert throttle.client_address(request) == counted_as


@override_settings(TRUSTED_PROXIES=PROXIES)
def test_one_attackers_spray_behind_the_proxy_does_not_slow_another_client(tenant, clock):
    """Behind a trusted proxy the address counter is the client's, not the proxy's."""

    def through_proxy(client: str, email: str, password: str):
        return Client(HTTP_HOST=host_of(tenant), REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=client).post(
            "/accounts/login/", {"username": email, "password": password}
        )

    for n in range(ADDRESS_FREE):
        assert through_proxy("203.0.113.66", f"person{n}@acme.test", "Summer2026!").status_code == 200
    assert _wait_of(through_proxy("203.0.113.66", "fresh@acme.test", "Summer2026!")) == 1
    assert through_proxy("198.51.100.77", "learner@acme.test", PASSWORD).status_code == 302
