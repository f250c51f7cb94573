"""The parts of :class:`producers.publisher.Publisher`, one concept per module.

* :mod:`.options` — :class:`~.options.PublisherOptions`, what a call returns, the counters;
* :mod:`.batching` — records grouped into one aiokafka batch per topic-partition;
* :mod:`.session` — the idempotent Kafka producer: connect, degrade to spooling, reset;
* :mod:`.drain` — writing to the spool and replaying it oldest first once Kafka answers.
"""
