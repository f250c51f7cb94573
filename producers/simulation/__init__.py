"""The parts of the pure simulator driven by :class:`producers.simulator.Simulation`.

* :mod:`.config` — :class:`~.config.SimulatorConfig`, the knobs of a simulation;
* :mod:`.state` — what the simulator remembers of each facility between minutes;
* :mod:`.context` — the seeded generator, the draws and the event factory every device shares;
* one module per simulated device: :mod:`.passages` (turnstiles and counting sensors),
  :mod:`.closures` (agents declaring exceptional closures), :mod:`.queues` (ticket machines),
  :mod:`.booking` (booking systems), :mod:`.cases` (case-management systems).

Each device function takes the context, one facility's state, the minute and the list of events
to append to; none does I/O or reads the wall clock.
"""
