"""A wait's time-to-ready goes into the recording; the next run polls around it.

Counted through the sandbox's own request log (``/_admin/requests``): with the previous
recording's hint the poller sleeps through most of the wait and then looks densely, so it
asks far fewer times than without one, and still sees the network ready.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from .conftest import live_args, recordings

SLOW = ["--robo-sim", "--robo-sim-delay=1.5", "-p", "no:cacheprovider", "-s"]

TEST = """
import requests, pytest
from pytest_robofixtures.plugin import SESSION_KEY

@pytest.mark.routed_network(ros_distro="melodic")
def test_network(routed_network, request):
    assert routed_network.get("phase") == "Succeeded"
    url = request.config.stash[SESSION_KEY].sandbox.rapyuta.url
    seen = requests.get(url + "/_admin/requests", timeout=5).json()["requests"]
    polls = [r for r in seen if r["method"] == "GET" and "/routednetwork/" in r["path"]]
    print("STATUS-POLLS", len(polls))
"""


def _polls(result: pytest.RunResult) -> int:
    match = re.search(r"STATUS-POLLS (\d+)", result.stdout.str())
    assert match, result.stdout.str()
    return int(match.group(1))


def test_the_recorded_time_to_ready_is_the_next_runs_hint(project: pytest.Pytester) -> None:
    project.makepyfile(test_hint=TEST)
    first = project.runpytest(*SLOW, "--robo-record-mode=all")
    first.assert_outcomes(passed=1)
    (path,) = recordings(project.path)
    clock = yaml.safe_load(path.read_text())["clock"]
    ready = clock["ready"]
    assert list(ready) == ["routed_network #1"]
    assert 1.0 <= ready["routed_network #1"] <= 5.0, ready

    second = project.runpytest(*SLOW, "--robo-record-mode=all")
    second.assert_outcomes(passed=1)
    without, hinted = _polls(first), _polls(second)
    # dense polling of a 1.5 s wait asks every 15% of the time waited; the hint sleeps 90%
    assert without >= 10, without
    assert hinted <= without / 2, (hinted, without)
    # the new recording keeps the new time as the hint of the run after
    again = yaml.safe_load(path.read_text())["clock"]["ready"]
    assert 1.0 <= again["routed_network #1"] <= 5.0


def test_a_recording_without_times_or_with_bad_ones_gives_no_hint(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_hint=TEST)
    project.runpytest(*SLOW, "--robo-record-mode=all").assert_outcomes(passed=1)
    (path,) = recordings(project.path)
    text = path.read_text()
    doc = yaml.safe_load(text)
    doc["clock"]["ready"] = {"routed_network #1": "soon", "other #1": -3}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = project.runpytest(*SLOW, "--robo-record-mode=all")
    result.assert_outcomes(passed=1)
    assert _polls(result) >= 10  # polled as without a hint
    assert json.dumps(yaml.safe_load(path.read_text())["clock"]["ready"]).count("#1") == 1


POLICY = """
from pytest_robofixtures.common.polling import Backoff, default_backoff

def test_policy():
    print("POLICY", "sdk-like" if default_backoff(5.0) == Backoff.for_interval(5.0) else
          "dense" if default_backoff(5.0) == Backoff.dense(5.0) else "other")
"""


def _policy(result: pytest.RunResult) -> str:
    match = re.search(r"POLICY (\S+)", result.stdout.str())
    assert match, result.stdout.str()
    return match.group(1)


def test_live_mode_polls_like_the_sdk_and_sim_and_replay_poll_densely(
    project: pytest.Pytester, live_sandbox: dict[str, Any]
) -> None:
    project.makepyfile(test_policy=POLICY)
    assert _policy(project.runpytest("-s", *live_args(live_sandbox))) == "sdk-like"
    assert _policy(project.runpytest("-s", "--robo-sim", "-p", "no:cacheprovider")) == "dense"
    assert _policy(project.runpytest("-s", "-p", "no:cacheprovider")) == "dense"
