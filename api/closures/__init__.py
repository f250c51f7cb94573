"""Exceptional closures declared by agents, as one package.

================  ==============================================================================
``routes``        thin routes: declare / update / end, message templates, the iCalendar feed
``console``       the agent console's reads: ``/v1/me``, ``/v1/audit``
``access``        rate limits, roles and facilities (401/403/404 before any body is read)
``models``        request and response bodies, the stored :class:`~api.closures.models.Closure`
``rules``         domain rules without I/O: scope, reason template, times, cap, state, events
``service``       one transactional service: idempotency → transaction → audit → outbox → publish
``store``         SQL: closures rows, audit trail, idempotency keys, outbox
``bus``           outbox → Kafka (the API's one publisher), with a relay for what a crash left
``calendar``      the iCalendar rendering (pure)
================  ==============================================================================

The service is not closure-specific: another kind of declaration (an equipment status on
``facility-equipment``) supplies its own rules and rows as a change function and reuses
:class:`~api.closures.service.DeclarationService` with the same bus.
"""
