"""Crowding forecasts: the next 4 hours of each facility's occupancy in 15-minute steps, p10/p50/p90,
and of each queue service's wait in minutes (:mod:`streams.forecast.waits`).

A sub-package of ``streams`` rather than a new top-level package: the forecast is one more thing the
platform computes from the events' history, like the occupancy and the time to be served in
:mod:`streams.core`, and it shares their tooling (strict types, the package list of the build). The
core (:mod:`streams.forecast.core`) is pure numpy — arrays in, arrays out, no I/O, no clock — so
the benchmark (:mod:`bench.forecast`), the tests and a forecasting job read the same code.
"""
