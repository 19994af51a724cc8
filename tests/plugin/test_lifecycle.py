"""Teardown that never leaks: failures, setup errors, Ctrl-C, --robo-keep, reap, killed workers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_robofixtures.journal import pending

from .conftest import SIM, live_args, live_env, live_resources, nothing_live

NETWORK_AND_DEPLOYMENT = """
import pytest

@pytest.mark.routed_network(ros_distro="melodic")
@pytest.mark.deployed_package("manifests/talker.json", timeout=30)
def test_body(routed_network, deployed_package):
    {body}
"""


def test_failing_test_still_tears_everything_down(project: pytest.Pytester) -> None:
    project.makepyfile(test_fail=NETWORK_AND_DEPLOYMENT.format(body="assert False, 'robot fell'"))
    result = project.runpytest(*SIM)
    result.assert_outcomes(failed=1)
    # The summary's leak count comes from the sandbox's own admin view at session end.
    result.stdout.fnmatch_lines(["*mode sim: provisioned 3, torn down 3, leaked 0*"])
    result.stdout.fnmatch_lines(["*robo: resource timeline*", "*deployment robo-*running*"])
    assert pending(project.path / ".robofixtures") == []


def test_failed_setup_tears_down_what_was_already_made(project: pytest.Pytester) -> None:
    project.makeconftest(
        """
        import pytest
        from pytest_robofixtures.plugin import SESSION_KEY

        @pytest.fixture(autouse=True)
        def deployment_will_fail(request):
            sandbox = request.config.stash[SESSION_KEY].sandbox
            sandbox.rapyuta.app.fail_next_deployment("failed")
        """
    )
    project.makepyfile(test_setup=NETWORK_AND_DEPLOYMENT.format(body="pass"))
    result = project.runpytest(*SIM)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*DeploymentNotRunningException*phase=Failed to start*",
        "*mode sim: provisioned 3, torn down 3, leaked 0*",
    ])
    assert pending(project.path / ".robofixtures") == []


@pytest.mark.parametrize(
    "interrupt",
    ["raise KeyboardInterrupt",  # Ctrl-C
     "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"],  # a CI cancellation
    ids=["ctrl-c", "sigterm"],
)
def test_ctrl_c_mid_test_still_tears_down(project: pytest.Pytester, interrupt: str) -> None:
    project.makepyfile(test_int=NETWORK_AND_DEPLOYMENT.format(body=interrupt))
    result = project.runpytest_subprocess(*SIM)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*KeyboardInterrupt*"])
    result.stdout.fnmatch_lines(["*provisioned 3, torn down 3, leaked 0*"])
    assert pending(project.path / ".robofixtures") == []


def test_missing_credential_is_named_and_writes_no_recording(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("RIO_AUTH_TOKEN", "RIO_PROJECT", "REROBOTS_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    project.makepyfile(
        test_live="""
        import pytest

        @pytest.mark.routed_network(ros_distro="melodic")
        def test_net(routed_network):
            pass
        """
    )
    result = project.runpytest("--robo-live", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*RIO_AUTH_TOKEN is not set*Export RIO_AUTH_TOKEN=*"])
    assert list((project.path).rglob("recording.yaml")) == []


def _run_cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("robofixtures")
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env={**os.environ, **env})


def test_keep_then_reap_leaves_nothing(
    project: pytest.Pytester, live_sandbox: dict[str, Any]
) -> None:
    env = live_env(live_sandbox)
    project.makepyfile(test_keep=NETWORK_AND_DEPLOYMENT.format(body="pass"))
    result = project.runpytest("--robo-keep", *live_args(live_sandbox))
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*kept rapyuta.deployment*", "*robofixtures reap --journal-dir*"])
    live = live_resources(live_sandbox)["rapyuta"]
    assert len(live["deployments"]) == 1 and len(live["routed_networks"]) == 1

    reaped = _run_cli("reap", "--journal-dir", ".robofixtures", cwd=project.path, env=env)
    assert reaped.returncode == 0, reaped.stdout + reaped.stderr
    assert reaped.stdout.count("deleted ") == 3
    assert nothing_live(live_sandbox)
    again = _run_cli("reap", "--journal-dir", ".robofixtures", cwd=project.path, env=env)
    assert "nothing to reap" in again.stdout


def test_reap_without_credentials_names_the_variable(
    project: pytest.Pytester, live_sandbox: dict[str, Any]
) -> None:
    env = live_env(live_sandbox)
    project.makepyfile(test_keep=NETWORK_AND_DEPLOYMENT.format(body="pass"))
    project.runpytest("--robo-keep", *live_args(live_sandbox)).assert_outcomes(passed=1)
    no_creds = _run_cli("reap", cwd=project.path, env={"RIO_AUTH_TOKEN": ""})
    assert no_creds.returncode == 2
    assert "RIO_AUTH_TOKEN is not set" in no_creds.stderr
    _run_cli("reap", cwd=project.path, env=env)
    assert nothing_live(live_sandbox)


KILLED = """
import os, signal
import pytest

@pytest.mark.routed_network(ros_distro="melodic")
@pytest.mark.deployed_package("manifests/talker.json", timeout=30)
def test_killed(routed_network, deployed_package):
    os.kill(os.getpid(), signal.SIGKILL)

@pytest.mark.routed_network(ros_distro="melodic")
def test_survivor(routed_network):
    assert routed_network.guid
"""


def test_worker_killed_mid_test_then_reap_leaves_the_service_empty(
    project: pytest.Pytester, live_sandbox: dict[str, Any]
) -> None:
    env = live_env(live_sandbox)
    project.makepyfile(test_kill=KILLED)
    result = project.runpytest_subprocess("-n", "2", *live_args(live_sandbox))
    result.stdout.fnmatch_lines(["*worker*crashed*"])
    # Counts come from the journals: the killed worker's resources were reaped by the controller.
    result.stdout.fnmatch_lines(["*mode live: provisioned 4, torn down 4, leaked 0*"])
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed") == 1 and outcomes.get("passed") == 1
    reaped = _run_cli("reap", "--journal-dir", ".robofixtures", cwd=project.path, env=env)
    assert reaped.returncode == 0, reaped.stdout + reaped.stderr
    assert nothing_live(live_sandbox), live_resources(live_sandbox)
    assert pending(project.path / ".robofixtures") == []


def test_instance_timed_out_in_init_is_still_terminated(project: pytest.Pytester) -> None:
    # The wait gives up while the instance is INIT; terminate is refused ("busy") until it is
    # READY, so teardown must retry rather than leak it.
    project.makepyfile(
        test_slow="""
        import pytest

        @pytest.mark.rerobots_instance(workspace_types=["null"], timeout=0.1)
        def test_too_impatient(rerobots_instance):
            pass
        """
    )
    result = project.runpytest("--robo-sim", "--robo-sim-delay=0.8", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*WaitTimeout*INIT*", "*provisioned 1, torn down 1, leaked 0*"])


def test_keep_in_sim_mode_counts_once_and_reap_clears_the_journal(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        test_keep="""
        import pytest

        @pytest.mark.routed_network(ros_distro="melodic")
        def test_net(routed_network):
            pass
        """
    )
    result = project.runpytest("--robo-keep", *SIM)
    result.assert_outcomes(passed=1)
    out = result.stdout.str()
    assert "kept rapyuta.routed_network" in out and "LEAKED" not in out
    assert len(pending(project.path / ".robofixtures")) == 1
    # The sandbox stopped with the run and took its resources along: reap just clears the entry.
    reaped = _run_cli("reap", cwd=project.path, env={})
    assert reaped.returncode == 0, reaped.stdout + reaped.stderr
    assert pending(project.path / ".robofixtures") == []
