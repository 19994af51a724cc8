"""Options, ini keys and marker validation, through pytester."""

from __future__ import annotations

import pytest

from .conftest import REPLAY


def test_all_markers_registered_and_strict_markers_clean(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.routed_network(ros_distro="melodic")
        @pytest.mark.deployed_package(manifest="m.json")
        @pytest.mark.online_device(arch="amd64")
        @pytest.mark.rerobots_instance(workspace_types=["null"])
        @pytest.mark.roc_broker(base_port=6000)
        @pytest.mark.roc_object("vnir")
        def test_marked():
            pass
        """
    )
    result = pytester.runpytest("--strict-markers", *REPLAY)
    result.assert_outcomes(passed=1)
    markers = pytester.runpytest("--markers")
    for name in ("routed_network", "deployed_package", "online_device", "rerobots_instance",
                 "roc_broker", "roc_object"):
        markers.stdout.fnmatch_lines([f"@pytest.mark.{name}(*"])


def test_every_fixture_has_a_docstring(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--fixtures", *REPLAY)
    out = result.stdout.str()
    for name in ("robo", "routed_network", "deployed_package", "online_device",
                 "rerobots_instance", "roc_broker", "roc_object"):
        block = out.split(f"\n{name} ", 1)
        assert len(block) == 2, f"fixture {name} not listed"
        doc = block[1].split("\n", 2)[1].strip()
        assert doc and "no docstring" not in doc, f"fixture {name} has no docstring"


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("routed_network(colour='red')",
         "*routed_network got unknown argument(s) colour; allowed: name, ros_distro*"),
        ("rerobots_instance(['null'], workspace_types=['x'])",
         "*rerobots_instance got 'workspace_types' twice*"),
        ("roc_object('a', 'b')", "*roc_object takes at most one positional argument*"),
        ("deployed_package(manifest='m.json', timeout=-1)",
         "*deployed_package: timeout must be a finite number > 0, got -1*"),
        ("deployed_package(manifest='m.json', timeout=float('nan'))",
         "*deployed_package: timeout must be a finite number > 0, got nan*"),
        ("rerobots_instance('null', addons=['vnc2'])",
         "*rerobots_instance: addons got 'vnc2'; allowed: cam*"),
        ("online_device(labels=3)", "*online_device: labels must be dict or list, got 3*"),
    ],
)
def test_bad_marker_arguments_stop_the_run(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.{marker}
        def test_x():
            pass
        """
    )
    result = pytester.runpytest(*REPLAY)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])


def test_live_and_sim_exclude_each_other(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--robo-live", "--robo-sim")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--robo-live and --robo-sim exclude each other*"])


@pytest.mark.parametrize(
    ("ini", "message"),
    [("robo_timeout = soon", "*robo_timeout must be a float number, got 'soon'*"),
     ("robo_max_rentals = 0", "*robo_max_rentals must be > 0, got '0'*"),
     ("robo_timeout = nan", "*robo_timeout must be a finite number of seconds, got 'nan'*"),
     ("robo_timeout = inf", "*robo_timeout must be a finite number of seconds, got 'inf'*"),
     ("robo_record_mode = once", "*--robo-record-mode=once records, which needs a live target*")],
)
def test_bad_ini_values_are_usage_errors(pytester: pytest.Pytester, ini: str, message: str) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_fixture_without_required_marker_explains_the_fix(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_needs_marker(rerobots_instance):
            pass
        """
    )
    result = pytester.runpytest("--robo-sim", "-p", "no:cacheprovider")
    # Reported at collection, before anything is provisioned.
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*test_needs_marker: rerobots_instance needs "
         "@pytest.mark.rerobots_instance(workspace_types=*"]
    )
