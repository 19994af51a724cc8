"""Builds: docker images built by the platform from a git repository (catalog ``/build``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..common.polling import Backoff, PollTimeout, poll
from ._model import ObjDict
from .enums import DeviceArch, ROSDistro, _StrEnum
from .errors import (
    APIError,
    BuildFailed,
    BuildOperationFailed,
    InvalidParameterException,
    RetriesExhausted,
)

if TYPE_CHECKING:
    from ._rest import Rest


class BuildStatus(_StrEnum):
    """States of a build."""

    BUILD_IN_PROGRESS = "BuildInProgress"
    COMPLETE = "Complete"
    BUILD_FAILED = "BuildFailed"

    @staticmethod
    def validate(statuses: Any) -> None:
        """``statuses`` must be a list of BuildStatus values."""
        if not isinstance(statuses, list):
            raise InvalidParameterException("statuses must be an instance of list")
        for status in statuses:
            if status not in list(BuildStatus):
                raise InvalidParameterException(
                    "status must be of pytest_robofixtures.rapyuta.build.BuildStatus")


class StrategyType(_StrEnum):
    """How the image is built: from source (S2I) or from a Dockerfile."""

    SOURCE = "Source"
    DOCKER = "Docker"


class SimulationOptions(ObjDict):
    """Whether the build includes simulation support."""

    def __init__(self, simulation: bool) -> None:
        super().__init__()
        if not isinstance(simulation, bool):
            raise InvalidParameterException("simulation must be a boolean")
        self.simulation = simulation


class CatkinOption(ObjDict):
    """Options of one catkin build (strings, as on the wire)."""

    def __init__(self, rosPkgs: str | None = None, cmakeArgs: str | None = None,  # noqa: N803
                 makeArgs: str | None = None, blacklist: str | None = None,  # noqa: N803
                 catkinMakeArgs: str | None = None) -> None:  # noqa: N803
        super().__init__()
        for what, value in (("rosPkgs", rosPkgs), ("cmakeArgs", cmakeArgs),
                            ("makeArgs", makeArgs), ("blacklist", blacklist),
                            ("catkinMakeArgs", catkinMakeArgs)):
            if value and not isinstance(value, str):
                raise InvalidParameterException(f"{what} must be of string type")
        self.rosPkgs, self.cmakeArgs, self.makeArgs = rosPkgs, cmakeArgs, makeArgs
        self.blacklist, self.catkinMakeArgs = blacklist, catkinMakeArgs


class BuildOptions(ObjDict):
    """Catkin options of a ROS build."""

    def __init__(self, catkinOptions: list[CatkinOption]) -> None:  # noqa: N803
        super().__init__()
        if not isinstance(catkinOptions, list):
            raise InvalidParameterException("catkinOptions must be an instance of list")
        if not all(isinstance(o, CatkinOption) for o in catkinOptions):
            raise InvalidParameterException(
                "Every catkinOption must be an instance of pytest_robofixtures.rapyuta.build."
                "CatkinOption")
        self.catkinOptions = catkinOptions


class GithubWebhook(ObjDict):
    """A GitHub workflow triggered when the build completes."""

    WebhookType = "githubWorkflow"

    def __init__(self, workflowName: str, accessToken: str) -> None:  # noqa: N803
        super().__init__()
        if not workflowName or not isinstance(workflowName, str):
            raise InvalidParameterException(
                "workflowName must be present and should be of string type")
        if not accessToken or not isinstance(accessToken, str):
            raise InvalidParameterException(
                "accessToken must be present and should be of string type")
        self.webhookType = GithubWebhook.WebhookType
        self.workflowName, self.accessToken = workflowName, accessToken


class BuildOperationInfo(ObjDict):
    """One build of a trigger or rollback request."""

    def __init__(self, buildGuid: str, buildGenerationNumber: int | None = None,  # noqa: N803
                 triggerName: str | None = None, tagName: str | None = None) -> None:  # noqa: N803
        super().__init__()
        if not buildGuid or not isinstance(buildGuid, str):
            raise InvalidParameterException("buildGuid must be a non-empty string")
        if buildGenerationNumber and not isinstance(buildGenerationNumber, int):
            raise InvalidParameterException("buildGenerationNumber should be a integer")
        for what, value in (("triggerName", triggerName), ("tagName", tagName)):
            if value is not None and (not isinstance(value, str) or value == ""):
                raise InvalidParameterException(f"{what} must be a non-empty string")
        self.buildGUID = buildGuid
        if buildGenerationNumber:
            self.buildGenerationNumber = buildGenerationNumber
        if triggerName:
            self.triggerName = triggerName
        if tagName:
            self.tagName = tagName


class BuildOperation(ObjDict):
    """A trigger or rollback request: ``buildOperationInfo``, a list of BuildOperationInfo."""

    def __init__(self, buildOperationInfo: list[BuildOperationInfo]) -> None:  # noqa: N803
        super().__init__()
        if not isinstance(buildOperationInfo, list):
            raise InvalidParameterException("buildOperationInfo must be an instance of list")
        if not all(isinstance(b, BuildOperationInfo) for b in buildOperationInfo):
            raise InvalidParameterException(
                "Every buildOperation must be an instance of BuildOperationInfo")
        self.buildOperationInfo = buildOperationInfo


def _validate(name: Any, strategy: Any, repository: Any, architecture: Any, ros_distro: Any,
              is_ros: Any, context_dir: Any, dockerfile: Any, secret: Any, pull: Any, push: Any,
              push_repo: Any, simulation: Any, options: Any, branch: Any, trigger: Any,
              tag: Any, webhooks: Any) -> None:
    """The SDK's checks of a build definition."""
    if not name or not isinstance(name, str):
        raise InvalidParameterException("buildName must be a non-empty string")
    if not strategy or strategy not in list(StrategyType):
        raise InvalidParameterException(
            "StrategyType must be one of pytest_robofixtures.rapyuta.build.StrategyType")
    if not repository or not isinstance(repository, str):
        raise InvalidParameterException("repository must be a valid non-empty string")
    if branch != "" and not isinstance(branch, str):
        raise InvalidParameterException("branch must be a valid non-empty string")
    if not architecture or architecture not in list(DeviceArch):
        raise InvalidParameterException(
            "Architecture must be one of pytest_robofixtures.rapyuta.DeviceArch")
    if not isinstance(is_ros, bool):
        raise InvalidParameterException("isRos must be of bool type")
    if not is_ros and ros_distro != "":
        raise InvalidParameterException("rosDistro must not be set if isRos is False")
    if is_ros and ros_distro not in list(ROSDistro):
        raise InvalidParameterException(
            "rosDistro must be one of pytest_robofixtures.rapyuta.ROSDistro")
    if not is_ros and (options or simulation):
        raise InvalidParameterException(
            "isRos must be true for passing simulationOptions or buildOptions")
    if simulation is not None and not isinstance(simulation, SimulationOptions):
        raise InvalidParameterException("simulationOptions must be a SimulationOptions")
    if options is not None and not isinstance(options, BuildOptions):
        raise InvalidParameterException("buildOptions must be a BuildOptions")
    if not isinstance(context_dir, str):
        raise InvalidParameterException("contextDir must be a string")
    if strategy == StrategyType.SOURCE and dockerfile:
        raise InvalidParameterException("cannot use dockerFilePath for source strategyType")
    for what, value in (("dockerFilePath", dockerfile), ("secret", secret),
                        ("dockerPullSecret", pull), ("dockerPushSecret", push),
                        ("dockerPushRepository", push_repo), ("triggerName", trigger),
                        ("tagName", tag)):
        if not isinstance(value, str):
            raise InvalidParameterException(f"{what} must be a string")
    if (push_repo == "") != (push == ""):
        raise InvalidParameterException(
            "both dockerPushRepository and dockerPushSecret must be present")
    if push == "" and tag != "":
        raise InvalidParameterException("cannot use tagName without dockerPushSecret")
    if webhooks is not None and (not isinstance(webhooks, list) or not all(
            isinstance(w, GithubWebhook) for w in webhooks)):
        raise InvalidParameterException("buildWebhooks must be a list of GithubWebhook")


class Build(ObjDict):
    """A build definition; after ``client.create_build`` also ``guid``, ``status``, …."""

    def __init__(self, buildName: str, strategyType: StrategyType | str,  # noqa: N803
                 repository: str, architecture: DeviceArch | str,
                 rosDistro: ROSDistro | str = "", isRos: bool = False,  # noqa: N803
                 contextDir: str = "", dockerFilePath: str = "", secret: str = "",  # noqa: N803
                 dockerPullSecret: str = "", dockerPushSecret: str = "",  # noqa: N803
                 dockerPushRepository: str = "",  # noqa: N803
                 simulationOptions: SimulationOptions | None = None,  # noqa: N803
                 buildOptions: BuildOptions | None = None, branch: str = "",  # noqa: N803
                 triggerName: str = "", tagName: str = "",  # noqa: N803
                 buildWebhooks: list[GithubWebhook] | None = None) -> None:  # noqa: N803
        super().__init__()
        _validate(buildName, strategyType, repository, architecture, rosDistro, isRos,
                  contextDir, dockerFilePath, secret, dockerPullSecret, dockerPushSecret,
                  dockerPushRepository, simulationOptions, buildOptions, branch, triggerName,
                  tagName, buildWebhooks)
        self._rest: Rest | None = None
        self.buildName, self.secret = buildName, secret
        self.dockerPullSecret, self.dockerPushSecret = dockerPullSecret, dockerPushSecret
        self.dockerPushRepository = dockerPushRepository
        self.triggerName, self.tagName = triggerName, tagName
        self.buildInfo = ObjDict(
            repository=repository, branch=branch, strategyType=StrategyType(strategyType),
            dockerFilePath=dockerFilePath, contextDir=contextDir,
            architecture=DeviceArch(architecture), isRos=isRos,
            rosDistro=ROSDistro(rosDistro) if rosDistro else "",
            simulationOptions=simulationOptions, buildOptions=buildOptions)
        self.buildWebhooks = buildWebhooks

    # -- wire -------------------------------------------------------------------------------
    def _serialize(self) -> dict[str, Any]:
        info = self.buildInfo
        build: dict[str, Any] = {
            "buildName": self.buildName, "strategyType": str(info.strategyType),
            "repository": info.repository, "architecture": str(info.architecture),
            "isRos": info.isRos}
        if self.get("secret"):
            build["secret"] = self.secret
        if self.get("dockerPullSecret"):
            build["dockerPullSecrets"] = [self.dockerPullSecret]
        if self.get("dockerPushSecret"):
            build["dockerPushSecret"] = self.dockerPushSecret
        if self.get("dockerPushRepository"):
            build["dockerPushRepository"] = self.dockerPushRepository
        if self.get("triggerName"):
            build["triggerName"] = self.triggerName
        if self.get("tagName"):
            build["tagName"] = self.tagName
        for key in ("rosDistro", "simulationOptions", "buildOptions", "dockerFilePath",
                    "contextDir", "branch"):
            value = info.get(key)
            if value:
                build[key] = str(value) if key == "rosDistro" else _plain(value)
        if self.get("buildWebhooks") is not None:
            build["buildWebhooks"] = _plain(self.buildWebhooks)
        return build

    @classmethod
    def _deserialize(cls, data: dict[str, Any], rest: Rest | None = None,
                     obj: Build | None = None) -> Build:
        if not isinstance(data, dict):
            raise APIError(f"expected a build object, got {str(data)[:200]}")
        if obj is not None:  # a refresh keeps the typed buildInfo
            obj.update({k: v for k, v in data.items() if k != "buildInfo"})
            return obj
        build = cls.__new__(cls)
        build._rest = rest
        build.update(data)
        info = ObjDict(data.get("buildInfo") or {})
        if info.get("strategyType") in list(StrategyType):
            info["strategyType"] = StrategyType(info["strategyType"])
        if info.get("architecture") in list(DeviceArch):
            info["architecture"] = DeviceArch(info["architecture"])
        if info.get("rosDistro") in list(ROSDistro):
            info["rosDistro"] = ROSDistro(info["rosDistro"])
        opts = info.get("buildOptions")
        if isinstance(opts, dict):
            options = BuildOptions.__new__(BuildOptions)
            options.catkinOptions = [_wire_obj(CatkinOption, o)
                                     for o in opts.get("catkinOptions") or []]
            info["buildOptions"] = options
        else:
            info["buildOptions"] = None
        sim = info.get("simulationOptions")
        info["simulationOptions"] = _wire_obj(SimulationOptions, sim) if sim else None
        for key in ("repository", "branch", "dockerFilePath", "contextDir", "rosDistro"):
            info.setdefault(key, "")
        build["buildInfo"] = info
        pulls = data.get("dockerPullSecrets") or []
        build.setdefault("dockerPullSecret", pulls[0] if pulls else "")
        for key in ("secret", "dockerPushSecret", "dockerPushRepository"):
            build.setdefault(key, "")
        build.is_partial = True
        return build

    # -- calls ------------------------------------------------------------------------------
    def _client(self) -> Rest:
        if self._rest is None or not self.get("guid"):
            raise InvalidParameterException("the build must be created first (create_build)")
        return self._rest

    def refresh(self) -> Build:
        """Fetch the build again (status, generation, …) and update this object."""
        body = self._client().catalog("GET", f"/build/{self.guid}")
        Build._deserialize(body, obj=self)
        self.is_partial = False
        return self

    def save(self) -> None:
        """Send the edited fields (repository, branch, options, secrets, webhooks) with PUT."""
        info = self.buildInfo
        _validate(self.buildName, info.strategyType, info.repository, info.architecture,
                  info.rosDistro, info.isRos, info.contextDir, info.dockerFilePath,
                  self.secret, self.dockerPullSecret, self.dockerPushSecret,
                  self.dockerPushRepository, info.simulationOptions, info.buildOptions,
                  info.branch, "", "", self.get("buildWebhooks"))
        self._client().catalog("PUT", f"/build/{self.guid}", json_body=self._serialize())

    def delete(self) -> None:
        """Delete the build."""
        self._client().catalog("DELETE", f"/build/{self.guid}")

    def _operation(self, kind: str, info: BuildOperationInfo) -> dict[str, Any]:
        body = build_operation(self._client(), kind, BuildOperation([info]))
        result = (body.get("buildOperationResponse") or [{}])[0]
        if not result.get("success"):
            raise BuildOperationFailed(result.get("error") or f"{kind} of {self.guid} failed")
        return dict(result)

    def trigger(self, triggerName: str | None = None,  # noqa: N803
                tagName: str | None = None) -> None:  # noqa: N803
        """Start a new build generation (``PUT /build/operation/trigger``)."""
        result = self._operation("trigger", BuildOperationInfo(
            str(self.guid), triggerName=triggerName, tagName=tagName))
        self["buildGeneration"] = result.get("buildGenerationNumber")

    def rollback(self, buildGenerationNumber: int) -> None:  # noqa: N803
        """Go back to an earlier build generation (``PUT /build/operation/rollback``)."""
        if isinstance(buildGenerationNumber, bool) or not isinstance(
                buildGenerationNumber, int) or buildGenerationNumber <= 0:
            raise InvalidParameterException(
                "build generation number must be an integer and greater than 0")
        self._operation("rollback", BuildOperationInfo(str(self.guid), buildGenerationNumber))
        self["buildGeneration"] = buildGenerationNumber

    def is_ready(self) -> bool:
        """Complete: True; in progress: False; failed: BuildFailed."""
        if self.get("status") == BuildStatus.BUILD_FAILED:
            raise BuildFailed(f"build {self.get('buildName')!r} ({self.get('guid')}) failed")
        return bool(self.get("status") == BuildStatus.COMPLETE)

    def poll_build_till_ready(self, retry_count: int = 120, sleep_interval: float = 5, *,
                              timeout: float | None = None) -> None:
        """Wait until Complete (adaptive; ``retry_count * sleep_interval`` is the timeout)."""
        if not isinstance(retry_count, int) or retry_count <= 0:
            raise InvalidParameterException(
                f"retry_count must be a positive int; got {retry_count!r}")
        if not isinstance(sleep_interval, (int, float)) or sleep_interval < 0:
            raise InvalidParameterException(f"sleep_interval must be >= 0; got {sleep_interval!r}")
        limit = float(timeout) if timeout is not None else float(retry_count * sleep_interval)
        cap = max(float(sleep_interval), 0.01)
        try:
            poll(self.refresh, lambda b: b.is_ready(), timeout=limit,
                 what=f"build {self.get('buildName')!r} ({self.get('guid')})",
                 describe=lambda b: f"status={b.get('status')}", clock=self._client().clock,
                 backoff=Backoff(initial=min(0.05, cap), factor=1.6, cap=cap))
        except PollTimeout as exc:
            raise RetriesExhausted(
                f"Retries exhausted: waited {exc.elapsed:.1f}s ({exc.polls} polls) for build "
                f"{self.get('guid')} to complete; last status {self.get('status')}",
                last_status=self.get("status")) from None


def _plain(value: Any) -> Any:
    """JSON-ready copy (ObjDicts and enums to dicts and strings)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, _StrEnum):
        return value.value
    return value


def _wire_obj(cls: type[ObjDict], data: Any) -> Any:
    obj = cls.__new__(cls)
    obj.update(data if isinstance(data, dict) else {})
    return obj


def build_operation(rest: Rest, kind: str, operation: BuildOperation) -> dict[str, Any]:
    """``PUT /build/operation/{trigger|rollback}``; the answer (``buildOperationResponse``)."""
    if not isinstance(operation, BuildOperation):
        raise InvalidParameterException("buildOperation must be a BuildOperation")
    body = rest.catalog("PUT", f"/build/operation/{kind}", json_body=_plain(operation))
    if not isinstance(body, dict):
        raise APIError(f"PUT /build/operation/{kind}: expected an object, got {str(body)[:200]}")
    return body
