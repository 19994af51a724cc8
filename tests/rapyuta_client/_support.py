"""Helpers of the rapyuta client tests: the sandbox handle and valid manifests."""

from __future__ import annotations

import copy
from typing import Any

import requests

from pytest_robofixtures.rapyuta import Client
from pytest_robofixtures.sim._wsgi import SimServer
from pytest_robofixtures.sim.rapyuta import RapyutaSim

TOKEN = "sim-token"
PROJECT = "sim-project"


class Sandbox:
    """The running sandbox: the app (for counters and knobs) and its admin endpoints."""

    def __init__(self, app: RapyutaSim, server: SimServer) -> None:
        self.app = app
        self.server = server
        self.url = server.url

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        resp = requests.request(method, f"{self.url}/_admin/{path}", json=body, timeout=5)
        resp.raise_for_status()
        return resp.json()

    def resources(self) -> dict[str, list[dict[str, Any]]]:
        return self.admin("GET", "resources")  # type: ignore[no-any-return]

    def fault(self, **rule: Any) -> None:
        self.admin("POST", "faults", rule)

    def client(self, **kwargs: Any) -> Client:
        kwargs.setdefault("timeout", 5.0)
        kwargs.setdefault("retries", 3)
        return Client(TOKEN, PROJECT, catalog_host=self.url, core_api_host=self.url, **kwargs)


def cloud_manifest(name: str = "talker", version: str = "v1.0.0", **extra: Any) -> dict[str, Any]:
    """A valid one-component cloud package with one parameter."""
    manifest: dict[str, Any] = {
        "name": name, "packageVersion": version, "description": "cloud talker",
        "apiVersion": "2.0.0",
        "plans": [{
            "name": "default", "singleton": False, "metadata": {},
            "inboundROSInterfaces": {"topics": [], "services": [], "actions": []},
            "dependentDeployments": [], "exposedParameters": [],
            "components": [{
                "name": "talker", "description": "", "requiredRuntime": "cloud",
                "architecture": "amd64",
                "ros": {"isROS": True, "topics": [{"name": "/chatter", "qos": "low"}],
                        "services": [], "actions": []},
                "parameters": [{"name": "RATE", "default": "10", "description": "hz"}],
                "executables": [{"name": "talkerExec", "docker": "ros:noetic",
                                 "cmd": ["rostopic pub /chatter std_msgs/String hi"]}],
            }],
        }],
    }
    manifest.update(extra)
    return manifest


def device_manifest(name: str = "listener", arch: str = "amd64", docker: bool = True,
                    required_param: bool = False) -> dict[str, Any]:
    """A valid one-component device package."""
    exe: dict[str, Any] = {"name": "listenerExec", "cmd": ["roslaunch listener listener.launch"]}
    if docker:
        exe["docker"] = "ros:noetic"
    params = [{"name": "TARGET", "description": "no default"}] if required_param else []
    return {
        "name": name, "packageVersion": "v1.0.0", "description": "device listener",
        "plans": [{
            "name": "default", "metadata": {},
            "components": [{
                "name": "listener", "requiredRuntime": "device", "architecture": arch,
                "ros": {"isROS": True, "topics": [], "services": [], "actions": []},
                "parameters": params, "executables": [exe],
            }],
        }],
    }


def copy_manifest(m: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(m)
