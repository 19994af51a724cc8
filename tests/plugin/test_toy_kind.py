"""A newcomer adds a seventh resource kind by writing one module and registering it."""

from __future__ import annotations

import pytest

from pytest_robofixtures.journal import pending

TOY_KIND = '''
"""A toy resource kind: lamps on an in-memory lamp service."""
from __future__ import annotations

import itertools
from typing import Any

from pytest_robofixtures.kinds import Kind, Param, ResourceType

LAMPS: dict[str, dict[str, Any]] = {}
_ids = itertools.count(1)


def _delete(clients, ident, wait, timeout):
    LAMPS.pop(ident, None)


def _find(clients, name, extra):
    return next((i for i, lamp in LAMPS.items() if lamp["name"] == name), None)


LAMP = ResourceType("toy.lamp", "rapyuta", reap_order=5, delete=_delete, find=_find)


class ToyLampKind(Kind[dict]):
    """A lit toy lamp, switched off at teardown."""

    name = "toy_lamp"
    help = "configure the toy_lamp fixture (a lamp on the toy lamp service)."
    params = (Param("colour", (str,), choices=("red", "green")),
              Param("watts", (int,), positive=True))
    positional = "colour"
    shareable = True
    resource_types = (LAMP,)

    def provision(self, robo, colour="red", watts=5):
        name = robo.journal_name("lamp")

        def create(on_created):
            ident = f"lamp-{next(_ids)}"
            LAMPS[ident] = {"name": name, "colour": colour, "watts": watts}
            on_created(ident)
            return dict(LAMPS[ident], id=ident)

        return robo.create(LAMP, name, f"toy_lamp {name}", create,
                           adopt=lambda ident: dict(LAMPS[ident], id=ident))
'''

CONFTEST = '''
import toy_kind
from pytest_robofixtures.kinds import register


def pytest_robofixtures_configure(config, settings, registry):
    registry.register(toy_kind.ToyLampKind())


def pytest_unconfigure(config):
    # What is left on the toy service once every test (and shared lamp) was torn down.
    print(f"LAMPS LEFT: {len(toy_kind.LAMPS)}")
'''

TESTS = '''
import pytest
import toy_kind


@pytest.mark.toy_lamp("green", watts=60)
def test_fixture(toy_lamp):
    assert toy_lamp["colour"] == "green" and toy_lamp["watts"] == 60
    assert toy_lamp["id"] in toy_kind.LAMPS


def test_factory(robo):
    lamps = [robo.toy_lamp(colour="red") for _ in range(2)]
    assert len({lamp["id"] for lamp in lamps}) == 2
    assert len(toy_kind.LAMPS) == 2


@pytest.mark.toy_lamp(scope="worker")
def test_shared_a(toy_lamp):
    pytest.shared_id = toy_lamp["id"]


@pytest.mark.toy_lamp(scope="worker")
def test_shared_b(toy_lamp):
    assert toy_lamp["id"] == pytest.shared_id
'''


@pytest.fixture
def toy_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(toy_kind=TOY_KIND)
    pytester.makeconftest(CONFTEST)
    pytester.syspathinsert()
    return pytester


def test_toy_kind_gets_fixture_marker_factory_sharing_and_teardown(
    toy_project: pytest.Pytester,
) -> None:
    toy_project.makepyfile(test_toy=TESTS)
    result = toy_project.runpytest("--robo-sim", "-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*provisioned 4, torn down 4, leaked 0*", "*LAMPS LEFT: 0*"])
    assert pending(toy_project.path / ".robofixtures") == []


def test_toy_kind_marker_is_validated_and_documented(toy_project: pytest.Pytester) -> None:
    markers = toy_project.runpytest("--markers", "-p", "no:cacheprovider")
    markers.stdout.fnmatch_lines(["*toy_lamp(colour, watts, scope): configure the toy_lamp*"])
    fixtures = toy_project.runpytest("--fixtures", "-p", "no:cacheprovider")
    fixtures.stdout.fnmatch_lines(["toy_lamp*", "*A lit toy lamp, switched off at teardown.*"])
    toy_project.makepyfile(test_bad="""
        import pytest

        @pytest.mark.toy_lamp("blue")
        def test_x(toy_lamp):
            pass
    """)
    result = toy_project.runpytest("--robo-sim", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*toy_lamp: colour got 'blue'; allowed: red, green*"])
