"""The ``deployed_package`` kind: a package (made from a manifest or found) and its deployment.

The deployment runs bound to the test's routed networks, native network and device, and
mounts the test's volume where ``volumes={component: mount_path}`` says.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .base import Clients, Kind, Param, ResourceType, call_create

if TYPE_CHECKING:
    from ..factory import Robo
    from ..rapyuta import Deployment, Package


def _gone() -> tuple[type[BaseException], ...]:
    from ..rapyuta.errors import PackageNotFound, ResourceNotFoundError

    return (ResourceNotFoundError, PackageNotFound)


def _delete_deployment(clients: Clients, ident: str, wait: bool, timeout: float) -> None:
    handle = getattr(clients, "handles", {}).get(ident)
    deployment = handle if handle is not None else clients.rapyuta.get_deployment(ident)
    deployment.deprovision()


def _find_deployment(clients: Clients, name: str, extra: Mapping[str, Any]) -> str | None:
    for deployment in clients.rapyuta.get_all_deployments():
        if deployment.get("name") == name:
            return str(deployment.get("deploymentId"))
    return None


def _delete_package(clients: Clients, ident: str, wait: bool, timeout: float) -> None:
    clients.rapyuta.delete_package(ident)


def _find_package(clients: Clients, name: str, extra: Mapping[str, Any]) -> str | None:
    for package in clients.rapyuta.get_all_packages(name=name):
        if package.get("packageName", package.get("name")) == name:
            return str(package.get("packageId", package.get("id")))
    return None


DEPLOYMENT = ResourceType("rapyuta.deployment", "rapyuta", reap_order=0,
                          delete=_delete_deployment, find=_find_deployment, gone=_gone())
PACKAGE = ResourceType("rapyuta.package", "rapyuta", reap_order=3,
                       delete=_delete_package, find=_find_package, gone=_gone())


class DeployedPackageKind(Kind["Deployment"]):
    """A running rapyuta.io Deployment, bound to the test's routed network and device if used."""

    name = "deployed_package"
    help = "configure the deployed_package fixture (rapyuta.io deployment)."
    params = (
        Param("manifest", (dict, str, Path)), Param("package_id", (str,)),
        Param("package_name", (str,)), Param("plan", (str,)), Param("name", (str,)),
        Param("parameters", (dict,)), Param("labels", (dict,)),
        Param("restart_policy", (str, dict)), Param("aliases", (dict,)),
        Param("volumes", (dict,)), Param("timeout", (int, float), positive=True),
    )
    positional = "manifest"
    requires_one_of = ("manifest", "package_id", "package_name")
    requires_hint = ("deployed_package needs @pytest.mark.deployed_package(manifest=...) "
                     "(or package_id=/package_name=)")
    resource_types = (DEPLOYMENT, PACKAGE)

    def fixture(self, robo: Robo, request: pytest.FixtureRequest,
                kwargs: dict[str, Any]) -> Deployment:
        for name in ("online_device", "routed_network"):
            if name in request.fixturenames:
                request.getfixturevalue(name)
        if "native_network" in request.fixturenames:
            kwargs["native_networks"] = [request.getfixturevalue("native_network")]
        if kwargs.get("volumes"):
            kwargs["volume"] = request.getfixturevalue("volume")
        return self.provision(robo, **kwargs)

    def provision(self, robo: Robo, **kwargs: Any) -> Deployment:
        return deploy(robo, **kwargs)


def deploy(
    robo: Robo,
    manifest: dict[str, Any] | str | Path | None = None,
    *,
    package_id: str | None = None,
    package_name: str | None = None,
    plan: str | None = None,
    name: str | None = None,
    parameters: dict[str, dict[str, str]] | None = None,
    labels: dict[str, str] | None = None,
    restart_policy: str | dict[str, str] | None = None,
    aliases: dict[str, str] | None = None,
    routed_networks: list[Any] | None = None,
    native_networks: list[Any] | None = None,
    volumes: Mapping[str, Any] | None = None,
    volume: Any = None,
    device: Any = None,
    timeout: float | None = None,
) -> Deployment:
    """Create (or find) a package, provision it, wait until it runs; deprovision at teardown.

    ``volumes`` maps a component name to a mount path of ``volume`` (a VolumeInstance, e.g. the
    ``volume`` fixture), or to a ``(volume, mount_path)`` pair.
    """
    from ..rapyuta import RestartPolicy

    package = _package(robo, manifest, package_id, package_name)
    config = package.get_provision_configuration(plan)
    device = device if device is not None else (robo.devices[0] if robo.devices else None)
    for component in _components(package, config):
        comp_name = component["name"]
        if component.get("requiredRuntime") == "device":
            if device is None:
                raise ValueError(
                    f"component {comp_name!r} of package {package.packageName!r} runs on a "
                    "device: request the online_device fixture in the test (or pass device=)"
                )
            config.add_device(comp_name, device)
    networks = routed_networks if routed_networks is not None else robo.routed_networks
    if networks:
        config.add_routed_networks(list(networks))
    for native in native_networks or []:
        config.add_native_network(native)
    mounted = _mount_volumes(config, volumes or {}, volume)
    for comp_name, values in (parameters or {}).items():
        for key, value in values.items():
            config.add_parameter(comp_name, key, value)
    for key, value in (labels or {}).items():
        config.add_label(key, value)
    if restart_policy is not None:
        policies = restart_policy if isinstance(restart_policy, dict) else {
            c["name"]: restart_policy for c in _components(package, config)
        }
        for comp_name, policy in policies.items():
            config.add_restart_policy(comp_name, _restart_policy(RestartPolicy, policy))
    for comp_name, alias in (aliases or {}).items():
        config.set_component_alias(comp_name, alias)
    dep_name = robo.name(name or "dep")
    label = f"deployment {dep_name}"
    parents = [str(n.get("name", "")) for n in networks or []]
    parents += [str(n.name) for n in native_networks or []]
    parents += [str(v.get("name", "")) for v in mounted]
    deployment = robo.create(
        DEPLOYMENT, dep_name, label,
        create=lambda on_created: call_create(
            package.provision, on_created, lambda d: d.get("deploymentId"), dep_name, config),
        adopt=robo.rapyuta.get_deployment, parents=parents,
    )
    with robo.waiting(label) as hint:
        deployment.poll_deployment_till_ready(
            timeout=robo.timeout(timeout), on_change=robo.on_change(label), hint=hint
        )
    deployment.refresh()
    robo.event(label, "running")
    return deployment


def _package(robo: Robo, manifest: dict[str, Any] | str | Path | None, package_id: str | None,
             package_name: str | None) -> Package:
    client = robo.rapyuta
    if manifest is not None:
        data = load_manifest(manifest, robo.settings.rootdir)
        # A unique name per run and worker: two workers must not collide on name+version.
        pkg_name = robo.name(str(data.get("name", "pkg")))
        data = {**data, "name": pkg_name}
        label = f"package {pkg_name}"

        def create(on_created: Any) -> dict[str, Any]:
            return dict(call_create(client.create_package, on_created,
                                    lambda c: c["packageId"], data))

        created = robo.create(PACKAGE, pkg_name, label, create,
                              adopt=lambda ident: {"packageId": ident})
        return client.get_package(str(created["packageId"]))
    if package_id:
        return client.get_package(package_id)
    if package_name:
        found = [p for p in client.get_all_packages(name=package_name)
                 if p.packageName == package_name]
        if not found:
            raise LookupError(
                f"no package named {package_name!r}: pass manifest= to create it, or "
                "package_id="
            )
        return client.get_package(found[0].packageId)
    raise ValueError("deployed_package needs manifest=, package_id= or package_name=")


def _mount_volumes(config: Any, volumes: Mapping[str, Any], volume: Any) -> list[Any]:
    """Mount each ``{component: path or (volume, path)}``; the volumes mounted."""
    mounted = []
    for comp_name, spec in volumes.items():
        if isinstance(spec, (tuple, list)) and len(spec) == 2:
            target, path = spec
        elif isinstance(spec, str):
            target, path = volume, spec
            if target is None:
                raise ValueError(
                    f"volumes={{{comp_name!r}: {spec!r}}} mounts the test's volume: use the volume "
                    "fixture in the test, or pass volume= (or a (volume, path) pair)")
        else:
            raise ValueError(f"volumes[{comp_name!r}] must be a mount path or a (volume, path) "
                             f"pair, got {spec!r}")
        config.mount_volume(comp_name, volume=target, mount_path=path)
        mounted.append(target)
    return mounted


def _components(package: Any, config: Any) -> list[dict[str, Any]]:
    plan = config.plan if hasattr(config, "plan") else None
    plans = getattr(package, "plans", None) or []
    chosen = plan or (plans[0] if plans else None)
    if chosen is None:
        return []
    components = chosen.get("components") if isinstance(chosen, dict) else getattr(
        chosen, "components", None)
    if isinstance(components, dict):
        components = components.get("components", [])
    return [c if isinstance(c, dict) else vars(c) for c in components or []]


def _restart_policy(enum: Any, value: Any) -> Any:
    if isinstance(value, enum):
        return value
    for member in enum:
        if str(value).lower() in (member.name.lower(), str(member.value).lower()):
            return member
    raise ValueError(
        f"restart_policy must be one of {', '.join(m.name for m in enum)}, got {value!r}"
    )


def load_manifest(manifest: dict[str, Any] | str | Path, root: Path) -> dict[str, Any]:
    """A package manifest from a dict or a JSON/YAML file (relative to the rootdir)."""
    if isinstance(manifest, dict):
        return dict(manifest)
    path = Path(manifest)
    if not path.is_absolute():
        path = root / path
    if not path.is_file():
        raise FileNotFoundError(
            f"manifest {manifest} not found (looked at {path}); paths are relative to the "
            "rootdir"
        )
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"manifest {path} is not valid JSON/YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"manifest {path} must hold a JSON object (a package manifest)")
    return data


KINDS = (DeployedPackageKind(),)
