"""Helpers for the resource-family tests: our client on the sandbox, and test packages."""

from __future__ import annotations

from typing import Any

from pytest_robofixtures.rapyuta import Client

from ._support import PROJECT, TOKEN, Sandbox

FAST = {"retry_count": 400, "sleep_interval": 0.05}


def our_client(sandbox: Sandbox) -> Client:
    """Our Client pointed at the sandbox for both hosts."""
    return Client(TOKEN, PROJECT, catalog_host=sandbox.url, core_api_host=sandbox.url,
                  timeout=10, retries=1)


def ros_cloud_manifest(name: str = "talker", endpoints: bool = False) -> dict[str, Any]:
    """A one-component ROS cloud package (two executables; an exposed endpoint if asked)."""
    comp: dict[str, Any] = {
        "name": "talker", "description": "", "requiredRuntime": "cloud",
        "architecture": "amd64",
        "ros": {"isROS": True, "topics": [], "services": [], "actions": []},
        "parameters": [],
        "executables": [{"name": "talkerExec", "docker": "ros:noetic", "cmd": ["talk"]},
                        {"name": "sidecar", "docker": "busybox", "cmd": ["sleep"]}],
    }
    if endpoints:
        comp["cloudInfra"] = {"replicas": 1, "endpoints": [
            {"name": "web", "exposeExternally": True, "port": 443, "targetPort": 8080,
             "proto": "HTTPS"}]}
    return {
        "name": name, "packageVersion": "v1.0.0", "apiVersion": "v1.0.0", "description": "",
        "plans": [{"name": "default", "singleton": False, "metadata": {},
                   "inboundROSInterfaces": {"topics": [], "services": [], "actions": []},
                   "dependentDeployments": [], "exposedParameters": [],
                   "components": [comp]}],
    }


def ros_device_manifest(name: str = "listener") -> dict[str, Any]:
    """A one-component ROS package for an amd64 docker device."""
    return {
        "name": name, "packageVersion": "v1.0.0", "apiVersion": "v1.0.0", "description": "",
        "plans": [{"name": "default", "singleton": False, "metadata": {},
                   "inboundROSInterfaces": {"topics": [], "services": [], "actions": []},
                   "dependentDeployments": [], "exposedParameters": [],
                   "components": [{
                       "name": "listener", "description": "", "requiredRuntime": "device",
                       "architecture": "amd64",
                       "ros": {"isROS": True, "topics": [], "services": [], "actions": []},
                       "parameters": [],
                       "executables": [{"name": "listenerExec", "docker": "ros:melodic",
                                        "cmd": ["listen"]}]}]}],
    }
