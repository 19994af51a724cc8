"""Porting is a textual replacement: every name user code imports from the SDK's modules exists
under the same module path of ``pytest_robofixtures.rapyuta``."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import pkgutil

import pytest

rapyuta_io = pytest.importorskip("rapyuta_io")

OURS = "pytest_robofixtures.rapyuta"

#: SDK modules user code has no reason to import (HTTP plumbing, internals), or that cover
#: platform parts outside the plugin's scope (projects, organizations, user groups, paramserver)
NOT_MIRRORED = {
    "clients.api_client", "clients.catalog_client", "clients.core_api_client",
    "clients.provision_client", "clients.rip_client", "clients.validation_schema",
    "clients.paramserver", "clients.organization", "clients.project", "clients.user_group",
    "utils.constants", "utils.object_converter", "utils.partials", "utils.pollers",
    "utils.query_builder", "utils.rest_client", "utils.settings", "utils.utils",
}
#: families another part of the plugin adds (native networks, volumes, static routes, secrets,
#: builds): checked once their mirror module exists
FAMILY_MODULES = {"clients.native_network", "clients.persistent_volumes",
                  "clients.static_route", "clients.secret", "clients.build",
                  "clients.buildoperation"}
#: SDK-internal names inside mirrored modules
INTERNAL_NAMES = {"DeviceManagerClient", "ImmutableKeyDict", "RestClient", "ProvisionClient",
                  "prepend_bearer_to_auth_token", "Project", "UserGroup", "absolute_import"}
#: names of families added elsewhere (rosbag jobs and blobs; volumes/builds/secrets re-exported
#: at the top level of the SDK)
FAMILY_NAMES = {"ROSBagJobStatus", "ComponentType", "ROSBagBlobStatus", "ROSBagBlob",
                "ROSBagInfo", "MessageType", "TopicInfo", "DiskType", "Build", "BuildStatus",
                "StrategyType", "SimulationOptions", "CatkinOption", "BuildOptions",
                "BuildOperation", "BuildOperationInfo", "Secret", "SecretConfigDocker"}


def _sdk_modules() -> list[str]:
    names = ["", "rio_client", "clients", "utils"]
    for pkg in ("clients", "utils"):
        mod = importlib.import_module(f"rapyuta_io.{pkg}")
        names += [f"{pkg}.{m.name}" for m in pkgutil.iter_modules(mod.__path__)]
    return [n for n in names if n not in NOT_MIRRORED]


def _public_names(module_name: str) -> list[str]:
    """Classes, functions and enums a user imports from the SDK module ``module_name``."""
    mod = importlib.import_module("rapyuta_io" + (f".{module_name}" if module_name else ""))
    if module_name in ("", "clients", "utils"):  # packages: what their __init__ names
        tree = ast.parse(inspect.getsource(mod))
        return sorted({a.asname or a.name for node in ast.walk(tree)
                       if isinstance(node, ast.ImportFrom) and node.module != "__future__"
                       for a in node.names if a.name != "*" and not a.name.startswith("_")})
    return sorted(n for n, o in vars(mod).items()
                  if not n.startswith("_") and (inspect.isclass(o) or inspect.isfunction(o))
                  and getattr(o, "__module__", None) == mod.__name__)


@pytest.mark.parametrize("module_name", _sdk_modules())
def test_every_public_sdk_name_is_mirrored(module_name: str) -> None:
    ours_name = OURS + (f".{module_name}" if module_name else "")
    if module_name in FAMILY_MODULES and importlib.util.find_spec(ours_name) is None:
        pytest.skip(f"{ours_name} comes with the family that adds it")
    ours = importlib.import_module(ours_name)
    wanted = [n for n in _public_names(module_name)
              if n not in INTERNAL_NAMES and n not in FAMILY_NAMES]
    missing = [n for n in wanted if not hasattr(ours, n)]
    assert not missing, f"from {ours_name} import ... lacks {missing}"


def test_the_lists_are_not_empty() -> None:
    """The comparison above sees the SDK's names (it would pass vacuously otherwise)."""
    assert "ProvisionConfiguration" in _public_names("clients.package")
    assert "InternalDeploymentStatus" in _public_names("clients.common_models")
    assert "DeviceNotFoundException" in _public_names("utils.error")
    assert len(_sdk_modules()) >= 12


def test_ported_imports_resolve_to_our_classes() -> None:
    from pytest_robofixtures.rapyuta import Client
    from pytest_robofixtures.rapyuta.clients.deployment import DeploymentPhaseConstants
    from pytest_robofixtures.rapyuta.clients.device import Device
    from pytest_robofixtures.rapyuta.clients.package import ProvisionConfiguration
    from pytest_robofixtures.rapyuta.provision import ProvisionConfiguration as Ours
    from pytest_robofixtures.rapyuta.rio_client import Client as MirroredClient
    from pytest_robofixtures.rapyuta.utils.error import APIError
    from pytest_robofixtures.rapyuta.utils.objdict import ObjDict

    assert ProvisionConfiguration is Ours and MirroredClient is Client
    assert DeploymentPhaseConstants.SUCCEEDED == "Succeeded"
    assert issubclass(Device, ObjDict)
    assert APIError.__module__ == "pytest_robofixtures.rapyuta.errors"
