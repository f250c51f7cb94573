"""What ``services start --kafka-brokers N`` would run, checked without starting anything: the
single broker stays the default, the cluster keeps to its own ports and folders, and its brokers
replicate every topic three times with two in sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from paris_live.services import ServiceError, ServiceManager
from paris_live.services.kafka import KafkaService
from paris_live.services.kafka_cluster import KafkaCluster, replication_for
from paris_live.settings import LOCAL_KAFKA_PORT, Settings


def _properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_the_single_broker_stays_the_default(tmp_path: Path) -> None:
    """Without the flag (and no cluster running) the manager runs the one broker on 39092."""
    settings = Settings(env="test", state_dir=tmp_path, kafka_bootstrap=None)
    kafka = [s for s in ServiceManager(settings).services if "kafka" in s.name]
    assert [type(s) for s in kafka] == [KafkaService]
    assert kafka[0].address == f"127.0.0.1:{LOCAL_KAFKA_PORT}"


def test_three_brokers_on_their_own_ports_and_folders(tmp_path: Path) -> None:
    """``--kafka-brokers 3``: three nodes on 18801-18803 (controllers 18811-18813), each in its
    own folder, none on the single broker's ports or folder."""
    settings = Settings(env="test", state_dir=tmp_path, kafka_bootstrap=None)
    [cluster] = [s for s in ServiceManager(settings, 3).services if isinstance(s, KafkaCluster)]
    assert cluster.bootstrap == "127.0.0.1:18801,127.0.0.1:18802,127.0.0.1:18803"
    assert [n.controller_port for n in cluster.nodes] == [18811, 18812, 18813]
    assert len({n.root for n in cluster.nodes}) == 3
    assert all(n.root.parent == (tmp_path / "kafka-cluster").resolve() for n in cluster.nodes)


def test_every_topic_has_three_replicas_two_in_sync(tmp_path: Path) -> None:
    """The brokers' defaults: replication 3, min.insync.replicas 2, no unclean election — for the
    internal topics too — and all three nodes vote in one quorum."""
    cluster = KafkaCluster(tmp_path, 3, partitions=4)
    props = [_properties(node._properties()) for node in cluster.nodes]
    for p in props:
        assert p["default.replication.factor"] == "3"
        assert p["min.insync.replicas"] == "2"
        assert p["unclean.leader.election.enable"] == "false"
        assert p["offsets.topic.replication.factor"] == "3"
        assert p["transaction.state.log.min.isr"] == "2"
    assert len({p["controller.quorum.voters"] for p in props}) == 1
    assert sorted(p["node.id"] for p in props) == ["1", "2", "3"]
    assert replication_for(1) == (1, 1)


@pytest.mark.parametrize("brokers", [2, 4, 11])
def test_a_cluster_without_a_useful_quorum_is_refused(tmp_path: Path, brokers: int) -> None:
    """An even number of nodes (or more than 9) is refused with a message saying what works."""
    with pytest.raises(ServiceError, match="odd number"):
        KafkaCluster(tmp_path, brokers, partitions=4)
