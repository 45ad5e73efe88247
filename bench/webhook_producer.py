"""One producer process of bench.webhook_delivery: its own Django, its own connection.

Started with multiprocessing's spawn, so nothing of the parent (its connections, its Celery
producer pool, its receiver's threads) is shared. This module imports no Django at the top:
the child unpickles the target before Django is set up.
"""

from __future__ import annotations

import os
import time


def produce(index: int, producers: int, rate: float, count: int, schema: str, go, start_at, out) -> None:
    """Make `count` changes, event k at start_at + (index + k * producers) / rate (absolute).

    Puts ("ready", index) once connected, waits for `go`, then puts ("done", index, sent,
    finished, cpu) with sent = [(seq, commit timestamp, seconds behind its deadline), ...] and
    cpu the process's CPU seconds while producing.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from core.events import emit
    from tenants.models import Tenant

    connection.set_tenant(Tenant.objects.get(schema_name=schema))
    with transaction.atomic():  # connect and warm the subscription lookup before the clock starts
        from webhooks.models import WebhookEndpoint

        WebhookEndpoint.objects.filter(is_active=True).exists()
    out.put(("ready", index))
    go.wait()
    start = start_at.value
    cpu = time.process_time()
    sent: list[tuple[int, float, float]] = []
    try:
        for k in range(count):
            n = index + k * producers
            deadline = start + n / rate
            pause = deadline - time.time()
            if pause > 0:
                time.sleep(pause)
            seq = 1000 + n
            with transaction.atomic():
                emit("lesson.completed", data={"seq": seq})
                at = time.time()  # just before commit: the lag includes the commit and the publish
            sent.append((seq, at, max(0.0, at - deadline)))
        out.put(("done", index, sent, time.time(), time.process_time() - cpu))
    except BaseException as exc:  # the parent must hear of it rather than wait for the timeout
        out.put(("error", index, repr(exc)))
        raise
    finally:
        connection.close()
