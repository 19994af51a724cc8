"""How soon after a resource becomes ready does the poller notice? Ours vs the official SDK.

Runs the rapyuta.io sandbox on loopback with a provisioning delay, creates routed networks and
deployments, and measures (return time - ready time) for our adaptive pollers and for
rapyuta-io 1.17.1's fixed-interval ``poll_routed_network_till_ready()`` (5 s) and
``poll_deployment_till_ready()`` (6 s), both with their default arguments.

    python benchmarks/bench_polling.py [--delay 1.0] [--runs 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_robofixtures.rapyuta import Client
from pytest_robofixtures.sim._wsgi import SimServer
from pytest_robofixtures.sim.rapyuta import RapyutaSim

TOKEN, PROJECT = "bench-token", "bench-project"
MANIFEST: dict[str, Any] = {
    "name": "bench", "packageVersion": "v1.0.0",
    "plans": [{"name": "default", "components": [{
        "name": "c", "requiredRuntime": "cloud", "architecture": "amd64",
        "ros": {"isROS": False}, "parameters": [],
        "executables": [{"name": "e", "docker": "busybox", "cmd": ["sleep 1000"]}],
    }]}],
}


def ready_at(app: RapyutaSim, table: str, key: str) -> float:
    """The monotonic time at which the sandbox starts answering Succeeded/Running."""
    with app.lock:
        return float(getattr(app, table)[key]["_t0"]) + app.delay


def measure(wait: Callable[[], Any], ready: float, app: RapyutaSim) -> tuple[float, int]:
    before = app.requests_seen
    wait()
    return time.monotonic() - ready, app.requests_seen - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=1.0, help="provisioning delay (s)")
    parser.add_argument("--runs", type=int, default=2, help="runs per poller and resource")
    args = parser.parse_args()

    import rapyuta_io
    from rapyuta_io.utils import settings

    with tempfile.TemporaryDirectory() as scratch:
        app = RapyutaSim(token=TOKEN, project=PROJECT, delay=args.delay,
                         scratch_root=Path(scratch))
        with SimServer(app) as server:
            settings.default_host_config.update(
                catalog_host=server.url, core_api_host=server.url, rip_host=server.url)
            sdk = rapyuta_io.Client(TOKEN, PROJECT)
            assert sdk._catalog_client._catalog_api_host.startswith("http://127.0.0.1")
            ours = Client(TOKEN, PROJECT, catalog_host=server.url, core_api_host=server.url)
            pkg = ours.get_package(ours.create_package(MANIFEST)["packageId"])
            results: dict[str, list[tuple[float, int]]] = {}

            for i in range(args.runs):
                for who in ("ours", "sdk"):
                    net = ours.create_cloud_routed_network(f"{who}-{i}", "noetic", True)
                    ready = ready_at(app, "networks", net.guid)
                    if who == "ours":
                        wait: Callable[[], Any] = net.poll_routed_network_till_ready
                    else:
                        wait = sdk.get_routed_network(net.guid).poll_routed_network_till_ready
                    results.setdefault(f"routed network / {who}", []).append(
                        measure(wait, ready, app))
                    net.delete()

                    dep = pkg.provision(f"{who}-{i}", pkg.get_provision_configuration())
                    ready = ready_at(app, "deployments", dep.deploymentId)
                    if who == "ours":
                        wait = dep.poll_deployment_till_ready
                    else:
                        wait = sdk.get_deployment(dep.deploymentId).poll_deployment_till_ready
                    results.setdefault(f"deployment / {who}", []).append(
                        measure(wait, ready, app))
                    dep.deprovision()
            ours.close()

    print(f"sandbox provisioning delay {args.delay:.1f} s, {args.runs} run(s) each; latency = "
          "time from ready to the poller returning (mean), GETs = status requests (mean)")
    for kind in ("routed network", "deployment"):
        o = results[f"{kind} / ours"]
        s = results[f"{kind} / sdk"]
        lo, ls = statistics.mean(x for x, _ in o), statistics.mean(x for x, _ in s)
        go, gs = statistics.mean(n for _, n in o), statistics.mean(n for _, n in s)
        ratio = ls / max(lo, 1e-3)
        print(f"{kind:15s}  ours {lo * 1000:7.0f} ms ({go:4.1f} GETs)   "
              f"sdk {ls * 1000:7.0f} ms ({gs:4.1f} GETs)   ratio sdk/ours {ratio:6.1f}x")


if __name__ == "__main__":
    main()
