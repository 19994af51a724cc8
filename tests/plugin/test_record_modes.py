"""Record modes (none, once, all), the network guard for a whole run, strict replay, robo_config."""

from __future__ import annotations

import pytest

from .conftest import REPLAY, SIM, recordings

TWO_TESTS = """
import pytest

@pytest.mark.routed_network(ros_distro="melodic")
def test_a(routed_network):
    assert routed_network.guid

@pytest.mark.routed_network(ros_distro="noetic")
def test_b(routed_network):
    assert routed_network.guid
"""


def test_record_mode_none_runs_live_and_writes_nothing(project: pytest.Pytester) -> None:
    project.makepyfile(test_two=TWO_TESTS)
    result = project.runpytest(*SIM, "--robo-record-mode=none")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*mode sim: provisioned 2, torn down 2, leaked 0*"])
    assert recordings(project.path) == []


def test_record_mode_once_records_only_what_is_missing(project: pytest.Pytester) -> None:
    project.makepyfile(test_two=TWO_TESTS)
    project.runpytest(*SIM).assert_outcomes(passed=2)
    first, second = recordings(project.path)
    kept = first.read_bytes()
    second.unlink()
    result = project.runpytest(*SIM, "--robo-record-mode=once")
    result.assert_outcomes(passed=2)
    # Only the missing one was provisioned; the other replayed from its recording.
    result.stdout.fnmatch_lines(["*provisioned 1, torn down 1, leaked 0*"])
    assert first.read_bytes() == kept
    assert second.is_file()
    project.runpytest(*REPLAY).assert_outcomes(passed=2)


def test_record_mode_all_is_the_default_with_a_live_target(project: pytest.Pytester) -> None:
    project.makepyfile(test_two=TWO_TESTS)
    project.runpytest(*SIM).assert_outcomes(passed=2)
    before = [p.read_bytes() for p in recordings(project.path)]
    project.runpytest(*SIM).assert_outcomes(passed=2)
    after = [p.read_bytes() for p in recordings(project.path)]
    assert before != after  # re-recorded (a new recorded-at line at least)


def test_recording_modes_need_a_live_target(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--robo-record-mode=all", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--robo-record-mode=all records, which needs a live target*"])


PLAIN_CONNECTS_OUT = """
import socket

def test_plain_test_connects_out():
    socket.create_connection(("192.0.2.10", 80), timeout=1)
"""


def test_block_network_guards_every_test_of_a_replay_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=PLAIN_CONNECTS_OUT)
    result = pytester.runpytest("--robo-block-network", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "192.0.2.10" in out and "blocked" in out
    # The message names only options that exist.
    assert "--robo-allow-hosts" in out and "an explicit allowed host" not in out


def test_allowed_hosts_pass_the_guard(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="""
        import socket, pytest

        def test_allowed():
            # Allowed through the guard: the connection itself then fails (nothing listens).
            with pytest.raises(OSError) as info:
                socket.create_connection(("192.0.2.10", 80), timeout=0.2)
            assert "blocked" not in str(info.value).lower()
    """)
    result = pytester.runpytest("--robo-block-network", "--robo-allow-hosts=192.0.2.10",
                                "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_strict_replay_fails_a_test_that_left_recorded_interactions_unused(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_net="""
        import pytest

        @pytest.mark.routed_network(ros_distro="melodic")
        def test_net(robo, routed_network):
            robo.rapyuta.get_all_routed_networks()
    """)
    project.runpytest(*SIM).assert_outcomes(passed=1)
    project.makepyfile(test_net="""
        import pytest

        @pytest.mark.routed_network(ros_distro="melodic")
        def test_net(robo, routed_network):
            pass  # no longer lists the networks
    """)
    lenient = project.runpytest(*REPLAY)
    lenient.assert_outcomes(passed=1)
    lenient.stdout.fnmatch_lines(["*unused recorded interactions in test_net.py::test_net: 1*"])
    strict = project.runpytest(*REPLAY, "--robo-strict-replay")
    strict.assert_outcomes(passed=1, errors=1)
    strict.stdout.fnmatch_lines(["*--robo-strict-replay: 1 recorded interaction(s)*",
                                 "*HTTP GET*/routednetwork*"])


def test_robo_config_is_overridable_per_module(project: pytest.Pytester) -> None:
    project.makeconftest("""
        import pytest

        @pytest.fixture
        def robo_config():
            return {"scrub_fields": ["ros_distro"]}
    """)
    project.makepyfile(test_a="""
        import pytest

        @pytest.mark.routed_network(ros_distro="melodic")
        def test_scrubbed(routed_network):
            pass
    """, test_b="""
        import pytest

        @pytest.fixture
        def robo_config():
            return {}  # this module keeps the field

        @pytest.mark.routed_network(ros_distro="melodic")
        def test_kept(routed_network):
            pass
    """)
    project.runpytest(*SIM).assert_outcomes(passed=2)
    texts = {p.parent.name: p.read_text() for p in recordings(project.path)}
    assert "melodic" not in texts["test_scrubbed"]
    assert "melodic" in texts["test_kept"]


def test_unknown_robo_config_key_is_named(project: pytest.Pytester) -> None:
    project.makepyfile(test_a="""
        import pytest

        @pytest.fixture
        def robo_config():
            return {"scrub_feilds": ["x"]}

        def test_x(robo):
            pass
    """)
    result = project.runpytest(*SIM)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*robo_config: unknown key(s) scrub_feilds; known: scrub_fields*"])


VOLATILE = """
import os
import requests

def test_volatile(robo):
    base = robo.scope.credentials().rapyuta_catalog
    nonce = os.environ["NONCE"]
    # A volatile value in a query parameter and in a JSON body field, visible to the test.
    got = requests.get(base + "/_admin/resources", params={"nonce": nonce}, timeout=5)
    assert got.status_code == 200
    rule = {"kind": "delay", "seconds": 0, "count": 1, "path": "^/nowhere-" + nonce + "$"}
    made = requests.post(base + "/_admin/faults", json=rule, timeout=5)
    assert made.status_code == 201 and made.json()["path"].startswith("^/nowhere-")
"""


@pytest.mark.parametrize("ignored", [True, False], ids=["ignored", "matched"])
def test_a_module_robo_config_ignores_a_volatile_field_in_matching(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ignored: bool
) -> None:
    config = """
import pytest

@pytest.fixture
def robo_config():
    return {"ignore_query_params": ["nonce"], "ignore_json_paths": ["$.path"]}
""" if ignored else ""
    project.makepyfile(test_volatile=config + VOLATILE)
    monkeypatch.setenv("NONCE", "1111")
    project.runpytest(*SIM).assert_outcomes(passed=1)
    monkeypatch.setenv("NONCE", "2222")
    replayed = project.runpytest(*REPLAY)
    if ignored:
        replayed.assert_outcomes(passed=1)  # matched although the value changed
    else:
        replayed.assert_outcomes(failed=1)
        replayed.stdout.fnmatch_lines(["*request not found in the recording*"])


def test_drift_reports_a_field_the_service_added_back(project: pytest.Pytester) -> None:
    project.makepyfile(test_net="""
        import pytest

        @pytest.mark.routed_network(ros_distro="melodic")
        def test_net(routed_network):
            assert routed_network.guid
    """)
    project.runpytest(*SIM, "--robo-sim-seed=3").assert_outcomes(passed=1)
    (path,) = recordings(project.path)
    # The recorded responses lose a field: the live service now has one the recording lacks.
    text = path.read_text()
    assert "ownerProject:" in text
    path.write_text("\n".join(line for line in text.split("\n") if "ownerProject:" not in line))
    before = path.read_bytes()
    report = project.runpytest(*SIM, "--robo-sim-seed=3", "--robo-drift=report",
                               "--junitxml=junit.xml")
    report.assert_outcomes(passed=1)
    report.stdout.fnmatch_lines(["*drift check: 1 test(s) drifted*",
                                 "*DRIFT test_net.py::test_net*ownerProject*"])
    assert path.read_bytes() == before  # a drift check writes no recording
    assert 'name="robo.drift"' in (project.path / "junit.xml").read_text()
    strict = project.runpytest(*SIM, "--robo-sim-seed=3", "--robo-drift=strict")
    strict.assert_outcomes(passed=1, errors=1)
    strict.stdout.fnmatch_lines(["*--robo-drift=strict*drifted*"])
