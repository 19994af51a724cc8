"""Nothing lost under faults: kills mid-create, Ctrl-C in teardown, failed attempts, secrets.

Every test runs the plugin for real (pytester, often as a subprocess so signals are real) against
the embedded or a standalone sandbox, and proves "nothing left" with the sandbox's admin view.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from pytest_robofixtures.journal import pending

from .conftest import SIM, live_args, live_env, live_resources, nothing_live

NETWORK_AND_DEPLOYMENT = """
import pytest

@pytest.mark.routed_network(ros_distro="melodic")
@pytest.mark.deployed_package("manifests/talker.json", timeout=30)
def test_body(routed_network, deployed_package):
    {body}
"""


def _fault(info: dict[str, Any], service: str, rule: dict[str, Any]) -> None:
    base = info[service]["catalog_host" if service == "rapyuta" else "base_uri"]
    response = requests.post(f"{base}/_admin/faults", json=rule, timeout=5)
    assert response.status_code == 201, response.text


def _reap(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("robofixtures")
    return subprocess.run([str(exe), "reap"], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})


def _wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _journal_has(root: Path, text: str) -> bool:
    folder = root / ".robofixtures" / "journal"
    return folder.is_dir() and any(text in p.read_text() for p in folder.glob("*.jsonl"))


IN_FLIGHT = {
    "rapyuta.routed_network": ("rapyuta", "POST", "^/routednetwork$", """
import pytest

@pytest.mark.routed_network(ros_distro="melodic")
def test_x(routed_network):
    pass
"""),
    "rapyuta.package": ("rapyuta", "POST", "^/serviceclass/add", NETWORK_AND_DEPLOYMENT.format(
        body="pass")),
    "rapyuta.deployment": ("rapyuta", "PUT", "service_instances", NETWORK_AND_DEPLOYMENT.format(
        body="pass")),
    "rerobots.instance": ("rerobots", "POST", "^/new/", """
import pytest

@pytest.mark.rerobots_instance(workspace_types=["null"])
def test_x(rerobots_instance):
    pass
"""),
}


@pytest.mark.parametrize("kind", list(IN_FLIGHT))
def test_sigkill_during_an_in_flight_create_then_reap_leaves_nothing(
    project: pytest.Pytester, live_sandbox: dict[str, Any], kind: str
) -> None:
    service, method, path, source = IN_FLIGHT[kind]
    _fault(live_sandbox, service, {"kind": "delay", "seconds": 1.5, "method": method,
                                   "path": path, "count": 1})
    project.makepyfile(test_kill=source)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", *live_args(live_sandbox), "-q"], cwd=project.path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        # The create is in flight once its intent is journaled and the sandbox holds it.
        _wait_for(lambda: _journal_has(project.path, f'"kind": "{kind}"'), 60,
                  f"the intent line of the {kind}")
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert pending(project.path / ".robofixtures"), "the intent must outlive the kill"
    time.sleep(1.5)  # the delayed create now completes on the server: an orphan
    reaped = _reap(project.path, live_env(live_sandbox))
    assert reaped.returncode == 0, reaped.stdout + reaped.stderr
    assert nothing_live(live_sandbox), live_resources(live_sandbox)
    assert pending(project.path / ".robofixtures") == []


def test_ctrl_c_during_teardown_finishes_tearing_down_and_exits_2(
    project: pytest.Pytester,
) -> None:
    # The network's DELETE is held by the sandbox; SIGINT arrives while teardown waits on it.
    project.makeconftest(
        """
        import pytest, requests
        from pytest_robofixtures.plugin import SESSION_KEY

        @pytest.fixture(autouse=True)
        def slow_network_delete(request):
            url = request.config.stash[SESSION_KEY].sandbox.rapyuta.url
            requests.post(url + "/_admin/faults", json={
                "kind": "delay", "seconds": 1.5, "method": "DELETE",
                "path": "^/routednetwork/", "count": 1}, timeout=5)
        """
    )
    # A run started in the background by a shell inherits SIGINT ignored; a terminal's Ctrl-C
    # reaches Python's own handler, so the test puts that one back first.
    body = "import os, signal, threading; signal.signal(signal.SIGINT, " \
           "signal.default_int_handler); threading.Timer(0.8, os.kill, (os.getpid(), " \
           "signal.SIGINT)).start()"
    project.makepyfile(test_int=NETWORK_AND_DEPLOYMENT.format(body=body) + """

def test_never_runs():
    print("SECOND TEST RAN")
""")
    result = project.runpytest_subprocess(*SIM, "-s")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    out = result.stdout.str()
    assert "SECOND TEST RAN" not in out
    result.stdout.fnmatch_lines(["*interrupted during teardown*"])
    result.stdout.fnmatch_lines(["*provisioned 3, torn down 3, leaked 0*"])
    assert "teardown failed" not in out and ": ." not in out
    assert pending(project.path / ".robofixtures") == []


def test_ctrl_c_during_teardown_against_a_standalone_sandbox_leaves_its_admin_view_empty(
    project: pytest.Pytester, live_sandbox: dict[str, Any]
) -> None:
    # As above, but the sandbox outlives the run, so its own admin view proves nothing is left.
    _fault(live_sandbox, "rapyuta", {"kind": "delay", "seconds": 1.5, "method": "DELETE",
                                     "path": "^/routednetwork/", "count": 1})
    body = "import os, signal, threading; signal.signal(signal.SIGINT, " \
           "signal.default_int_handler); threading.Timer(0.8, os.kill, (os.getpid(), " \
           "signal.SIGINT)).start()"
    project.makepyfile(test_int=NETWORK_AND_DEPLOYMENT.format(body=body))
    result = project.runpytest_subprocess(*live_args(live_sandbox), "-s")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*interrupted during teardown*"])
    time.sleep(1.6)  # let the held DELETE finish on the server too
    base = live_sandbox["rapyuta"]["catalog_host"]
    seen = requests.get(f"{base}/_admin/requests", timeout=5).json()["requests"]
    deletes = [r for r in seen if r["method"] == "DELETE" and "/routednetwork/" in r["path"]]
    # the held DELETE was cut short by SIGINT, and the grace period sent it once more
    assert [r["fault"] for r in deletes] == ["delay", None], deletes
    assert deletes[-1]["status"] == 200, deletes
    assert nothing_live(live_sandbox), live_resources(live_sandbox)
    assert pending(project.path / ".robofixtures") == []


def test_a_failed_attempt_never_replaces_a_good_recording(project: pytest.Pytester) -> None:
    project.makepyfile(test_rec=NETWORK_AND_DEPLOYMENT.format(body="pass"))
    project.runpytest(*SIM).assert_outcomes(passed=1)
    (good,) = sorted(project.path.joinpath("cassettes").rglob("recording.yaml"))
    before = good.read_bytes()
    project.makeconftest(
        """
        import pytest
        from pytest_robofixtures.plugin import SESSION_KEY

        @pytest.fixture(autouse=True)
        def deployment_will_fail(request):
            request.config.stash[SESSION_KEY].sandbox.rapyuta.app.fail_next_deployment("failed")
        """
    )
    result = project.runpytest(*SIM)
    result.assert_outcomes(errors=1)
    assert good.read_bytes() == before, "the good recording must stay byte-identical"
    failed = good.with_name("recording.failed.yaml")
    assert failed.is_file() and b"Failed to start" in failed.read_bytes()
    result.stdout.fnmatch_lines(["*previous recording recording.yaml was kept*"])
    # The kept recording still replays.
    (project.path / "conftest.py").unlink()
    project.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_names_are_unique_across_the_tests_of_a_run(
    project: pytest.Pytester, live_sandbox: dict[str, Any]
) -> None:
    project.makepyfile(test_two="""
        import pytest

        @pytest.mark.routed_network(ros_distro="melodic")
        def test_a(routed_network):
            pass

        @pytest.mark.routed_network(ros_distro="melodic")
        def test_b(routed_network):
            pass
    """)
    project.runpytest("--robo-keep", *live_args(live_sandbox)).assert_outcomes(passed=2)
    networks = live_resources(live_sandbox)["rapyuta"]["routed_networks"]
    names = [n["name"] for n in networks]
    assert len(names) == 2 and len(set(names)) == 2, names
    exe = Path(sys.executable).with_name("robofixtures")
    dry = subprocess.run([str(exe), "reap", "--dry-run"], cwd=project.path, text=True,
                         capture_output=True, timeout=60, env={**os.environ,
                                                               **live_env(live_sandbox)})
    assert dry.stdout.count("would delete") == 2, dry.stdout
    assert _reap(project.path, live_env(live_sandbox)).returncode == 0
    assert nothing_live(live_sandbox)


CANARY_TEST = """
import os
import pytest

@pytest.mark.rerobots_instance(workspace_types=["null"])
def test_fails_with_secrets_in_locals(rerobots_instance):
    token = os.environ["RIO_AUTH_TOKEN"]
    project = os.environ["RIO_PROJECT"]
    rerobots_token = os.environ["REROBOTS_API_TOKEN"]
    private_key = rerobots_instance._Instance__sshkey
    print("leaking", token, project, private_key)
    assert private_key.startswith("nope"), (token, project, rerobots_token, private_key)
"""


def test_secrets_stay_out_of_terminal_junit_html_and_recordings(
    project: pytest.Pytester, live_sandbox: dict[str, Any]
) -> None:
    project.makepyfile(test_canary=CANARY_TEST)
    result = project.runpytest_subprocess(
        *live_args(live_sandbox), "-l", "--tb=long", "-vv", "-rA",
        "--junitxml=junit.xml", "--html=report.html",
    )
    result.assert_outcomes(failed=1)
    canaries = list(live_env(live_sandbox).values()) + ["PRIVATE KEY"]
    texts = {"terminal": result.stdout.str() + result.stderr.str()}
    for path in [project.path / "junit.xml", project.path / "report.html",
                 *project.path.joinpath("cassettes").rglob("*.yaml"),
                 *(p for p in project.path.joinpath("robo-artifacts").rglob("*") if p.is_file())]:
        texts[str(path)] = path.read_text(errors="replace")
    leaks = [(where, c) for where, text in texts.items() for c in canaries if c in text]
    assert leaks == []
    assert "<scrubbed" in texts["terminal"]


# fault rule, whether the faulted request itself committed a create, whether the test passes
CREATE_FAULTS: dict[str, tuple[dict[str, Any], bool, bool]] = {
    "lost reply on create": (
        {"kind": "lost_reply", "method": "POST", "path": "^/routednetwork$"}, True, True),
    "500 after commit": ({"kind": "status", "status": 500, "after": True, "method": "POST",
                          "path": "^/routednetwork$"}, True, True),
    "429 on create": ({"kind": "status", "status": 429, "method": "POST",
                       "path": "^/routednetwork$"}, False, True),
    "503 on create": ({"kind": "status", "status": 503, "method": "POST",
                       "path": "^/routednetwork$"}, False, True),
    "500 on a poll": ({"kind": "status", "status": 500, "method": "GET",
                       "path": "^/routednetwork/"}, False, True),
    # The service stays down for the read after the create, past the retries: the test errors
    # (infra), yet the network is torn down, not orphaned.
    "503 on the read after create": ({"kind": "status", "status": 503, "method": "GET",
                                      "path": "^/routednetwork/", "count": 8}, False, False),
}


@pytest.mark.parametrize("fault", list(CREATE_FAULTS))
def test_a_faulted_create_makes_one_network_and_leaves_nothing(
    project: pytest.Pytester, live_sandbox: dict[str, Any], fault: str
) -> None:
    rule, commits, passes = CREATE_FAULTS[fault]
    _fault(live_sandbox, "rapyuta", {"count": 1, **rule})
    project.makepyfile(test_net="""
        import pytest

        @pytest.mark.routed_network(ros_distro="melodic")
        def test_net(routed_network):
            assert routed_network.guid
    """)
    result = project.runpytest(*live_args(live_sandbox))
    if passes:
        result.assert_outcomes(passed=1)
    else:
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(["*InfraError*503*"])
    base = live_sandbox["rapyuta"]["catalog_host"]
    seen = requests.get(f"{base}/_admin/requests", timeout=5).json()["requests"]
    assert any(r.get("fault") for r in seen), "the fault must have fired"
    # Exactly one network was ever created: the create is never blindly sent again.
    creates = [r for r in seen if r["method"] == "POST" and r["path"] == "/routednetwork"]
    answered = [r for r in creates if r["status"] is not None and r["status"] < 300]
    assert len(answered) + int(commits) == 1, creates
    assert nothing_live(live_sandbox), live_resources(live_sandbox)
    assert pending(project.path / ".robofixtures") == []


def test_a_lost_reply_on_a_rerobots_create_is_adopted_and_usable_over_ssh(
    project: pytest.Pytester, live_sandbox: dict[str, Any]
) -> None:
    # The instance is made but its reply (and with it the generated private key) never
    # arrives: the plugin finds it on the deployment it asked, fetches its key, and the test
    # uses it as if nothing had happened. Exactly one instance; nothing left afterwards.
    _fault(live_sandbox, "rerobots", {"kind": "lost_reply", "method": "POST",
                                      "path": "^/new/", "count": 1})
    project.makepyfile(test_ws="""
        import pytest

        @pytest.mark.rerobots_instance(workspace_types=["null"])
        def test_ws(rerobots_instance):
            assert rerobots_instance.ssh.exec("echo adopted").check().stdout_text == "adopted\\n"
    """)
    result = project.runpytest(*live_args(live_sandbox))
    result.assert_outcomes(passed=1)
    base = live_sandbox["rerobots"]["base_uri"]
    seen = requests.get(f"{base}/_admin/requests", timeout=5).json()["requests"]
    creates = [r for r in seen if r["method"] == "POST" and r["path"].startswith("/new/")]
    assert [r["fault"] for r in creates] == ["lost_reply"], creates  # never sent again
    assert any(r["path"].endswith("/sshkey") for r in seen)
    assert nothing_live(live_sandbox), live_resources(live_sandbox)
    assert pending(project.path / ".robofixtures") == []
