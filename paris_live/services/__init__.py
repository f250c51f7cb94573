"""Project-owned local services (Kafka, Redis, PostgreSQL) under the state directory.

Exception tree::

    ServiceError                 a local service could not be prepared, started or stopped
     ├── ServiceMissing          a binary or tool it needs is not installed (says what to install)
     └── ServiceStartFailed      it was started but did not become ready (names its log file and cause)
"""

from paris_live.services.base import LocalService, ServiceError, ServiceMissing, ServiceStartFailed
from paris_live.services.manager import ServiceManager

__all__ = ["LocalService", "ServiceError", "ServiceManager", "ServiceMissing", "ServiceStartFailed"]
