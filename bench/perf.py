"""Linux ``perf`` over one process, kernel included: where a process's CPU goes below Python.

py-spy (``--profile`` of the benches) sees Python frames only; a process that spends most of its
time in system calls shows up there as one line (``transport.write``, ``select``). ``perf record``
samples the process's kernel stacks as well, so a profile tells the kernel's share (the TCP send
path, wake-ups of the readers) from the interpreter's and the extensions'. Used by
``bench.fanout --perf``; needs ``perf`` on the PATH and ``kernel.perf_event_paranoid`` ≤ 2 (or
root): without them the bench says so and measures without a kernel profile.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

KERNEL = "[kernel.kallsyms]"


class PerfRecorder:
    """``perf record -g`` of ``pid`` from :meth:`start` to :meth:`stop`; the report as text."""

    def __init__(self, pid: int, frequency: int = 999) -> None:
        self.pid = pid
        self.frequency = frequency
        self._dir = tempfile.TemporaryDirectory(prefix="bench-perf-")
        self.data = Path(self._dir.name) / "perf.data"
        self._proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        """``perf`` is installed and this user may record another process of theirs."""
        if shutil.which("perf") is None:
            return False
        try:
            paranoid = int(Path("/proc/sys/kernel/perf_event_paranoid").read_text())
        except (OSError, ValueError):
            return False
        return paranoid <= 2 or os.geteuid() == 0

    def start(self) -> None:
        command = ["perf", "record", "-g", "-F", str(self.frequency), "-p", str(self.pid)]
        self._proc = subprocess.Popen(
            [*command, "-o", str(self.data)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.send_signal(signal.SIGINT)
        self._proc.wait(timeout=60)
        self._proc = None

    def _report(self, sort: str) -> list[tuple[float, str]]:
        """(share of samples, name) rows of ``perf report --sort SORT``, largest first."""
        command = ["perf", "report", "-i", str(self.data), "--stdio", "--no-children"]
        out = subprocess.run(
            [*command, "-g", "none", "--sort", sort],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        rows = []
        for line in out.splitlines():
            parts = line.split(None, 1)
            if len(parts) == 2 and parts[0].endswith("%") and not line.startswith("#"):
                rows.append((float(parts[0].rstrip("%")) / 100, parts[1].strip()))
        return rows

    def summary(self, title: str, top: int = 30) -> tuple[float, str]:
        """The kernel's share of the samples, and a text report: by shared object, then the
        ``top`` symbols (``[k]`` kernel, ``[.]`` user space)."""
        by_dso = self._report("dso")
        kernel = sum(share for share, name in by_dso if name == KERNEL)
        lines = [title, "", "by shared object"]
        lines += [f"  {share:6.1%}  {name}" for share, name in by_dso[:10]]
        lines += ["", f"top {top} symbols ([k] kernel, [.] user space)"]
        lines += [f"  {share:6.1%}  {name}" for share, name in self._report("sym")[:top]]
        return kernel, "\n".join(lines) + "\n"

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()
