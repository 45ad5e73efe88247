"""Events of apps that may not call analytics' reports: assessments sends Django signals
(`assessments.signals`), and these receivers turn them into tracked events.

The signals are sent after the attempt's or certificate's transaction commits, inside the
tenant that wrote it, so `track()` stamps the right tenant and never reports a rolled-back
grade. The signal's keyword arguments are the event's payload plus `user_id`.
"""

from __future__ import annotations

from assessments import signals

from .ingest import track

EVENTS = {
    signals.quiz_submitted: "quiz.submitted",
    signals.quiz_graded: "quiz.graded",
    signals.certificate_issued: "certificate.issued",
}


def forward(sender, signal, user_id=None, **payload) -> None:
    track(EVENTS[signal], user_id=user_id, payload=payload)


def connect() -> None:
    for signal, event_type in EVENTS.items():
        signal.connect(forward, dispatch_uid=f"analytics-{event_type}")
