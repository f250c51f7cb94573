"""Feedback aggregates: satisfaction per facility, rule and month; complaint volume, nature and
response délais against the commitment.

- :mod:`streams.feedback.rules` — the pure aggregation rules (no I/O);
- :mod:`streams.feedback.store` — their SQL: answers, complaint facts, the monthly figures;
- :mod:`streams.feedback.intake` — records decoded into events, or parked in ``dead-letters``;
- :mod:`streams.feedback.job` — :class:`~streams.feedback.job.FeedbackJob`, the Kafka loop.
"""
