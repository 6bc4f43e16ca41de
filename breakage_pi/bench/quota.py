"""A CPU quota for one process tree: a cgroup of its own.

cgroup v1's ``cpu`` controller (``/sys/fs/cgroup/cpu``: ``cpu.cfs_period_us``,
``cpu.cfs_quota_us``) or cgroup v2's ``cpu.max``. Making a cgroup needs root
(or a delegated subtree); where neither is available :func:`unavailable`
says why in one line and the callers skip. A quota does not hold back
real-time (SCHED_FIFO) tasks, so whatever runs under it must run at normal
priority.

The kernel refuses a quota under 1 ms, so the period is 1 ms only for a
whole core: for a share ``s`` it is ``1 ms / s`` with a quota of 1 ms (4 ms
at 25 %). A process under the quota may use its share in bursts within one
period, then waits for the next.
"""

from __future__ import annotations

import os
from pathlib import Path

V1 = Path("/sys/fs/cgroup/cpu")
V2 = Path("/sys/fs/cgroup")
MIN_US = 1000                       # the kernel's least quota and period


def _root() -> tuple[Path, int] | None:
    if (V1 / "cpu.cfs_quota_us").is_file():
        return V1, 1
    controllers = V2 / "cgroup.controllers"
    if controllers.is_file() and "cpu" in controllers.read_text().split():
        return V2, 2
    return None


def unavailable() -> str | None:
    """Why no quota can be set here (one line), or None when it can."""
    root = _root()
    if root is None:
        return "no cgroup cpu controller (neither /sys/fs/cgroup/cpu/cpu.cfs_quota_us nor cpu.max)"
    if not os.access(root[0], os.W_OK):
        return f"{root[0]} is not writable (making a cgroup needs root)"
    return None


class CpuQuota:
    """A cgroup that holds the processes given to :meth:`add` to ``share`` of one core.

    >>> with CpuQuota(0.25) as quota:                      # doctest: +SKIP
    ...     quota.add(pid)                                 # the process and its threads, from now on
    """

    def __init__(self, share: float = 1.0) -> None:
        reason = unavailable()
        if reason:
            raise OSError(reason)
        self.root, self.version = _root()  # type: ignore[misc]
        self.path = self.root / f"breakage-pi-quota-{os.getpid()}-{id(self):x}"
        self._origins: dict[int, Path] = {}
        if self.version == 2:
            (self.root / "cgroup.subtree_control").write_text("+cpu")
        self.path.mkdir()
        self.period_us = MIN_US
        self.set(share)

    def set(self, share: float) -> None:
        """Allow ``share`` of one core (0 < share; 1.0 = a whole core) over a period of ``1 ms / share``
        (1 ms at most shares of a core or more)."""
        self.period_us = max(MIN_US, round(MIN_US / share))
        quota = max(MIN_US, round(share * self.period_us))
        if self.version == 1:
            (self.path / "cpu.cfs_quota_us").write_text("-1")
            (self.path / "cpu.cfs_period_us").write_text(str(self.period_us))
            (self.path / "cpu.cfs_quota_us").write_text(str(quota))
        else:
            (self.path / "cpu.max").write_text(f"{quota} {self.period_us}")

    def throttled(self) -> int:
        """How many times the quota has held its processes back so far (``nr_throttled`` of ``cpu.stat``)."""
        for line in (self.path / "cpu.stat").read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == "nr_throttled":
                return int(value)
        return 0

    def add(self, pid: int) -> None:
        """Move process ``pid`` (with all its threads, and the children it starts from now on) into the quota."""
        self._origins[pid] = self._cgroup_of(pid)
        (self.path / "cgroup.procs").write_text(str(pid))

    def release(self, pid: int) -> None:
        """Move process ``pid`` back to the cgroup it was in before :meth:`add` (its children stay)."""
        (self._origins.pop(pid, self.root) / "cgroup.procs").write_text(str(pid))

    def _cgroup_of(self, pid: int) -> Path:
        for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if (self.version == 1 and "cpu" in controllers.split(",")) or (self.version == 2 and not controllers):
                return self.root / path.lstrip("/")
        return self.root

    def close(self) -> None:
        """Move whatever is left back to the root cgroup and remove this one."""
        if not self.path.exists():
            return
        for pid in (self.path / "cgroup.procs").read_text().split():
            try:
                (self.root / "cgroup.procs").write_text(pid)
            except OSError:
                pass                     # it ended meanwhile
        self.path.rmdir()

    def __enter__(self) -> CpuQuota:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
