"""Apache Kafka 4.x, single node in KRaft mode, from its jars on Maven Central."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
import uuid
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from paris_live.services.base import LocalService, ServiceMissing, ServiceStartFailed, port_in_use

KAFKA_VERSION = "4.1.1"


class KafkaService(LocalService):
    name = "kafka"

    def __init__(self, state_dir: Path, port: int, controller_port: int, partitions: int) -> None:
        super().__init__(state_dir, port)
        self.controller_port = controller_port
        self.partitions = partitions

    @property
    def classpath_file(self) -> Path:
        return self.root / "classpath.txt"

    def _pom(self) -> Path:
        return Path(str(resources.files("paris_live.services") / "kafka" / "pom.xml"))

    def fetch_jars(self) -> str:
        """Resolve the broker's jars with Maven (cached in ~/.m2) and return the classpath."""
        pom = self._pom()
        digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:16]
        stamp = self.root / "classpath.sha"
        if self.classpath_file.exists() and stamp.exists() and stamp.read_text() == digest:
            return self.classpath_file.read_text().strip()
        if shutil.which("mvn") is None:
            raise ServiceMissing(
                "kafka: Maven (`mvn`) is needed to fetch the Kafka jars: "
                "install it with `apt-get install maven`"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "-f",
                str(pom),
                "dependency:build-classpath",
                "-Dmdep.includeScope=runtime",
                f"-Dmdep.outputFile={self.classpath_file}",
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise ServiceStartFailed(
                f"kafka: Maven could not fetch the Kafka {KAFKA_VERSION} jars:\n"
                f"{(result.stdout + result.stderr)[-1500:]}"
            )
        stamp.write_text(digest)
        return self.classpath_file.read_text().strip()

    def _properties(self) -> str:
        return "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                f"log.dirs={self.root / 'data'}",
                f"num.partitions={self.partitions}",
                "auto.create.topics.enable=false",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=8",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=4",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "log.retention.hours=168",
                "log.segment.bytes=104857600",
                "",
            ]
        )

    def java(self) -> str:
        java = shutil.which("java")
        if java is None:
            raise ServiceMissing(
                "kafka: Java 17+ is needed: install it with `apt-get install openjdk-17-jre-headless`"
            )
        return java

    def prepare(self) -> None:
        java = self.java()
        classpath = self.fetch_jars()
        props = self.root / "server.properties"
        props.write_text(self._properties())
        log_config = Path(str(resources.files("paris_live.services") / "kafka" / "log4j2.yaml"))
        (self.root / "log4j2.yaml").write_bytes(log_config.read_bytes())
        if (self.root / "data" / "meta.properties").exists():
            return
        cluster_id = uuid.uuid4().bytes
        import base64

        cid = base64.urlsafe_b64encode(cluster_id).decode().rstrip("=")
        result = subprocess.run(
            [
                java,
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                f"--cluster-id={cid}",
                f"--config={props}",
                "--ignore-formatted",
            ],
            capture_output=True,
            text=True,
            cwd=self.root,
        )
        if result.returncode != 0:
            raise ServiceStartFailed(
                f"kafka: formatting the storage failed:\n{(result.stdout + result.stderr)[-1500:]}"
            )

    def command(self) -> Sequence[str]:
        return [
            self.java(),
            "-Xms256m",
            "-Xmx768m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.root / 'log4j2.yaml'}",
            "-cp",
            self.classpath_file.read_text().strip(),
            "kafka.Kafka",
            str(self.root / "server.properties"),
        ]

    def ports(self) -> tuple[int, ...]:
        return (self.port, self.controller_port)

    def ready(self) -> bool:
        return kafka_ready(self.address)

    def start_timeout(self) -> float:
        return 90.0


def kafka_ready(bootstrap: str, timeout: float = 2.0) -> bool:
    """True when the broker answers a metadata request.

    The admin client is only started once the port listens (``port_in_use`` reads the kernel's
    tables for local hosts): dialled earlier, our ephemeral-range port can connect to itself.
    """
    from aiokafka.admin import AIOKafkaAdminClient

    host, _, port = bootstrap.split(",")[0].rpartition(":")
    if not port_in_use(int(port), host or "127.0.0.1"):
        return False

    async def probe() -> bool:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000)
        )
        try:
            await asyncio.wait_for(admin.start(), timeout)
            await asyncio.wait_for(admin.list_topics(), timeout)
            return True
        except Exception:
            return False
        finally:
            await admin.close()

    return asyncio.run(probe())
