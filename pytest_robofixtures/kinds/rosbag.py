"""The ``rosbag_job`` kind: a rosbag recording on the test's deployment, and its bags.

The fixture records on the ``deployed_package`` of the test (``robo.rosbag_job(deployment)`` on
any other): it yields a :class:`RosbagRecording`, a ``ROSBagJob`` that is running, with
:meth:`~RosbagRecording.blobs` (stop, wait until the bags are uploaded, list them) and
:meth:`~RosbagRecording.download` (into the test's artifacts). At teardown the job is stopped and
its bags are deleted from the platform.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..common.polling import PollTimeout, poll
from ..report import artifact_dir
from .base import Clients, Kind, Param, ResourceType, call_create

if TYPE_CHECKING:
    from ..factory import Robo
    from ..rapyuta import Deployment, ROSBagBlob, ROSBagJob

_STOPPED = ("Stopped", "Error")


def _status(job: Any) -> str:
    return str(getattr(job.status, "value", job.status))


def _gone() -> tuple[type[BaseException], ...]:
    from ..rapyuta.errors import ResourceNotFoundError

    return (ResourceNotFoundError,)


def _delete(clients: Clients, ident: str, wait: bool, timeout: float) -> None:
    """Stop the job (unless its deployment's end stopped it) and delete its bags."""
    client = clients.rapyuta
    job = client.get_rosbag_job(ident)
    if _status(job) not in (*_STOPPED, "Stopping"):
        try:
            client.stop_rosbag_jobs(job.deployment_id, guids=[ident])
        except _gone():
            pass  # the deployment is gone, and its jobs were stopped with it
    if wait and _status(job) not in _STOPPED:
        # A bag is made when the recording stops: wait for it, so none is left behind.
        try:
            poll(lambda: client.get_rosbag_job(ident), lambda j: _status(j) in _STOPPED,
                 timeout=max(timeout, 1.0), what=f"rosbag job {ident} to stop",
                 describe=_status, clock=getattr(clients, "clock", None))
        except PollTimeout:
            pass  # delete the bags there are; a later reap finds none to delete
    for blob in client.list_rosbag_blobs(job_ids=[ident]):
        try:
            client.delete_rosbag_blob(blob.guid)
        except _gone():
            pass


def _find(clients: Clients, name: str, extra: Mapping[str, Any]) -> str | None:
    deployment_id = extra.get("deployment_id")
    if not deployment_id:
        return None
    for job in clients.rapyuta.list_rosbag_jobs(str(deployment_id)):
        if job.name == name:
            return str(job.guid)
    return None


# Before the deployment it records (order 0): stopping needs the deployment.
ROSBAG_JOB = ResourceType("rapyuta.rosbag_job", "rapyuta", reap_order=-1,
                          delete=_delete, find=_find, gone=_gone())


class RosbagRecording:
    """A running rosbag job of the test (``.job``, a ROSBagJob), and helpers to read its bags.

    The job's attributes read through: ``guid``, ``name``, ``status``, ``deployment_id``,
    ``component_instance_id``...
    """

    def __init__(self, job: ROSBagJob, robo: Robo, timeout: float | None = None) -> None:
        self.job = job
        self._robo = robo
        self._timeout = timeout

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "job":
            raise AttributeError(name)
        return getattr(self.job, name)

    def __repr__(self) -> str:
        return f"<RosbagRecording {self.job.name!r} ({self.job.guid}) {_status(self.job)}>"

    @property
    def label(self) -> str:
        """How the timeline names this job."""
        return f"rosbag_job {self.job.name}"

    def refresh(self) -> RosbagRecording:
        """Read the job again (its ``status``)."""
        self.job = self._robo.rapyuta.get_rosbag_job(str(self.job.guid))
        return self

    def stop(self) -> None:
        """Stop recording (the platform then uploads the bag)."""
        job = self.job
        if _status(job) not in (*_STOPPED, "Stopping"):
            self._robo.rapyuta.stop_rosbag_jobs(str(job.deployment_id), guids=[str(job.guid)])
            self._robo.event(self.label, "stop requested")

    def blobs(self, stop: bool = True, timeout: float | None = None) -> list[ROSBagBlob]:
        """The bags of this job, uploaded; stops the job first (``stop=False``: as they are).

        Waits until the job has stopped, at least one bag exists and every bag is Uploaded;
        a bag whose upload failed raises ROSBagBlobError.
        """
        robo = self._robo
        client = robo.rapyuta
        limit = robo.timeout(timeout if timeout is not None else self._timeout)
        if stop:
            self.stop()

        def fetch() -> list[ROSBagBlob]:
            if stop:
                self.refresh()
            found: list[ROSBagBlob] = client.list_rosbag_blobs(job_ids=[str(self.job.guid)])
            return found

        def ready(found: list[ROSBagBlob]) -> bool:
            if _status(self.job) == "Error" and not found:
                raise RuntimeError(f"{self.label} ended in Error without recording a bag")
            if stop and _status(self.job) not in _STOPPED:
                return False
            return bool(found) and all(blob.is_ready() for blob in found)

        def describe(found: list[ROSBagBlob]) -> str:
            bags = ", ".join(f"{b.filename} {getattr(b.status, 'value', b.status)}"
                             for b in found)
            return f"job {_status(self.job)}, bags: {bags or 'none'}"

        with robo.waiting(self.label):
            try:
                found = poll(fetch, ready, timeout=limit, what=f"the bags of {self.label}",
                             describe=describe, clock=robo.clock,
                             on_change=lambda v, _: robo.event(self.label, describe(v))).value
            except PollTimeout as exc:
                last: list[ROSBagBlob] = exc.last if isinstance(exc.last, list) else []
                raise TimeoutError(f"{self.label}: its bags were not all uploaded after "
                                   f"{limit:.0f}s ({describe(last)})") from None
        robo.event(self.label, f"{len(found)} bag(s) uploaded")
        return found

    def download(self, directory: str | Path | None = None, stop: bool = True,
                 timeout: float | None = None) -> list[Path]:
        """Download every bag (see :meth:`blobs`); default: ``<artifacts>/<test>/rosbags``."""
        robo = self._robo
        folder = Path(directory) if directory is not None else artifact_dir(
            robo.settings.artifacts_dir, robo.nodeid) / "rosbags"
        folder.mkdir(parents=True, exist_ok=True)
        paths = [Path(robo.rapyuta.download_rosbag_blob(str(blob.guid),
                                                       download_dir=str(folder)))
                 for blob in self.blobs(stop=stop, timeout=timeout)]
        robo.event(self.label, f"downloaded {len(paths)} bag(s)")
        return paths


class RosbagJobKind(Kind[RosbagRecording]):
    """A running rosbag job on the test's deployed_package (RosbagRecording: blobs, download)."""

    name = "rosbag_job"
    help = ("configure the rosbag_job fixture (rosbag recording on the test's deployed_package; "
            ".blobs() and .download() read its bags).")
    params = (
        Param("name", (str,)), Param("component", (str,)),
        Param("topics", (list, tuple), items=(str,)), Param("all_topics", (bool,)),
        Param("topic_include_regex", (list, tuple), items=(str,)),
        Param("topic_exclude_regex", (str,)), Param("node", (str,)),
        Param("compression", (str,), choices=("LZ4", "BZ2")),
        Param("max_splits", (int,), positive=True),
        Param("max_message_count", (int,), positive=True),
        Param("timeout", (int, float), positive=True),
    )
    positional = "name"
    resource_types = (ROSBAG_JOB,)

    def fixture(self, robo: Robo, request: pytest.FixtureRequest,
                kwargs: dict[str, Any]) -> RosbagRecording:
        return self.provision(robo, deployment=request.getfixturevalue("deployed_package"),
                              **kwargs)

    def provision(self, robo: Robo, **kwargs: Any) -> RosbagRecording:
        return start_rosbag_job(robo, **kwargs)


def start_rosbag_job(
    robo: Robo, deployment: Deployment, name: str | None = None, component: str | None = None,
    topics: list[str] | None = None, all_topics: bool | None = None,
    topic_include_regex: list[str] | None = None, topic_exclude_regex: str | None = None,
    node: str | None = None, compression: str | None = None, max_splits: int | None = None,
    max_message_count: int | None = None, timeout: float | None = None,
) -> RosbagRecording:
    """Start a rosbag job on a running deployment's component and wait until it records.

    Records every topic unless ``topics``, ``topic_include_regex`` or ``node`` is given; the
    component may be left out when the deployment has only one. Stopped (its bags deleted) at
    teardown.
    """
    from ..rapyuta import ROSBagJob, ROSBagOptions

    if deployment is None:
        raise ValueError("rosbag_job needs the deployment to record: use the deployed_package "
                         "fixture in the test (or pass deployment=)")
    instance = _component_instance(deployment, component)
    if all_topics is None and not (topics or topic_include_regex or node):
        all_topics = True
    options = ROSBagOptions(
        all_topics=all_topics, topics=list(topics) if topics else None,
        topic_include_regex=list(topic_include_regex) if topic_include_regex else None,
        topic_exclude_regex=topic_exclude_regex, node=node, compression=compression,
        max_splits=max_splits, max_message_count=max_message_count)
    client = robo.rapyuta
    dep_id = str(deployment.get("deploymentId"))
    full_name = robo.name(name or "bag")
    label = f"rosbag_job {full_name}"
    spec = ROSBagJob(full_name, options, deployment_id=dep_id, component_instance_id=instance)
    job = robo.create(
        ROSBAG_JOB, full_name, label,
        create=lambda on_created: call_create(client.create_rosbag_job, on_created,
                                              lambda j: j.guid, spec),
        adopt=client.get_rosbag_job, parents=[str(deployment.get("name", ""))],
        extra={"deployment_id": dep_id},
    )

    def fetch() -> Any:
        current = client.get_rosbag_job(str(job.guid))
        if _status(current) in (*_STOPPED, "Stopping"):
            raise RuntimeError(f"{label} is {_status(current)} instead of recording")
        return current

    with robo.waiting(label) as hint:
        try:
            job = poll(fetch, lambda j: _status(j) == "Running", timeout=robo.timeout(timeout),
                       what=label, describe=_status, clock=robo.clock,
                       on_change=robo.on_change(label), hint=hint).value
        except PollTimeout as exc:
            raise TimeoutError(f"{label} is not recording after {exc.elapsed:.0f}s "
                               f"(last status {_status(exc.last)})") from None
    robo.event(label, "recording")
    return RosbagRecording(job, robo, timeout)


def _component_instance(deployment: Any, component: str | None) -> str:
    infos = list(deployment.get("componentInfo") or [])
    names = [str(info.get("name")) for info in infos]
    if component is None:
        if len(infos) != 1:
            raise ValueError(f"deployment {deployment.get('name')!r} has components {names}: "
                             "pass component= to choose the one to record")
        return str(infos[0].get("componentInstanceID"))
    for info in infos:
        if info.get("name") == component:
            return str(info.get("componentInstanceID"))
    raise ValueError(f"deployment {deployment.get('name')!r} has no component {component!r} "
                     f"(it has {names})")


KINDS = (RosbagJobKind(),)
