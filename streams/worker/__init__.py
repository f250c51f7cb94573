"""The stream worker's processing shell around the pure state machines of :mod:`streams.core`.

- :mod:`streams.worker.processor` — :class:`~streams.worker.processor.Processor`: records in,
  effects out, offsets committed;
- :mod:`streams.worker.partitions` — which partition owns a facility, what is held per partition;
- :mod:`streams.worker.machines` — the machine factory (real or fake);
- :mod:`streams.worker.batching` — what a flush cuts: statuses to publish, history for PostgreSQL;
- :mod:`streams.worker.publishing` — when a facility's status goes out (leading-edge window);
- :mod:`streams.worker.forwarding` — events read on the wrong partition sent to their owner;
- :mod:`streams.worker.config` — :class:`~streams.worker.config.WorkerConfig`, the tuning.
"""
