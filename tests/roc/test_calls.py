"""Calls, attributes, keyword arguments and remote exceptions through a real broker."""

from __future__ import annotations

import os

import pytest

from pytest_robofixtures.roc import (
    RemoteAttributeError,
    RemoteError,
    RemoteTypeError,
    RocClient,
    RocObjectNotFound,
)


def test_method_calls_positional_keyword_and_mixed(camera):
    assert camera.openShutter() is True
    assert camera.add(1, 2) == 3
    assert camera.add(a=1, b=2, c=3) == 6
    assert camera.add(1, b=5, c=0.5) == 6.5
    assert camera.echo(1, "x", key=[1, 2]) == {"args": [1, "x"], "kwargs": {"key": [1, 2]}}
    assert camera.echo() == {"args": [], "kwargs": {}}


def test_attributes_read_and_write(camera):
    assert camera.fps == 10.0
    assert camera.model == "TEST-CAM"
    assert camera.shutter_open is False
    camera.fps = 12.5
    assert camera.fps == 12.5
    camera.openShutter()
    assert camera.shutter_open is True


def test_read_only_property_and_unknown_names(camera):
    with pytest.raises(AttributeError):
        camera.shutter_open = False  # property without setter
    with pytest.raises(AttributeError):
        camera.no_such_attribute = 1  # typos are errors, not new attributes
    with pytest.raises(AttributeError):
        _ = camera.no_such_attribute
    assert not hasattr(camera, "does_not_exist")
    with pytest.raises(AttributeError):
        camera.openShutter = 3  # methods cannot be overwritten


def test_private_names_are_refused(client, camera):
    with pytest.raises(AttributeError):
        _ = camera._secret
    with pytest.raises(RemoteAttributeError) as info:
        client.call("cam", "__getattr__", ["_secret"])
    assert info.value.code == -32601
    with pytest.raises(RemoteAttributeError):
        client.call("cam", "_shutter")
    with pytest.raises(RemoteAttributeError):
        client.call("cam", "fps.__class__")


def test_dir_lists_methods_and_attributes(camera):
    names = dir(camera)
    assert {"openShutter", "add", "fps", "model", "shutter_open"} <= set(names)
    assert "_secret" not in names
    assert "(a: 'float', b: 'float' = 1, *, c: 'float' = 0)" in repr(camera.add) or "c" in repr(
        camera.add)
    assert camera.openShutter.__doc__ == "Open the shutter."


def test_remote_exception_is_reraised_with_builtin_type_and_traceback(camera):
    with pytest.raises(ValueError) as info:
        camera.boom("gain 99 out of range")
    exc = info.value
    assert isinstance(exc, RemoteError)
    assert exc.remote_type == "ValueError"
    assert exc.args == ("gain 99 out of range",)
    assert "Remote Traceback" in str(exc)
    assert "in boom" in exc.remote_traceback
    assert exc.data["objectId"] == "cam"
    assert exc.data["pid"] == os.getpid()


def test_keyerror_and_custom_exceptions(camera):
    with pytest.raises(KeyError) as info:
        camera.key_error()
    assert isinstance(info.value, RemoteError)
    with pytest.raises(RemoteError) as info2:
        camera.custom_error()
    assert info2.value.remote_type == "CalibrationError"
    assert not isinstance(info2.value, ValueError)
    assert "sensor not calibrated" in str(info2.value)


def test_bad_arguments_versus_typeerror_inside(camera):
    with pytest.raises(RemoteTypeError) as info:
        camera.add(1, 2, 3, 4)
    assert info.value.code == -32602
    with pytest.raises(TypeError) as info2:
        camera.type_error_inside(5)
    assert info2.value.code == -32000  # raised inside the method, not a binding error
    assert "len()" in str(info2.value)


def test_json_policy_nan_numpy_and_unserialisable(camera):
    assert camera.nan() == [1.0, None, None]
    assert camera.numpy_values() == {"scalar": 1.5, "array": [0, 1, 2], "int": 7}
    with pytest.raises(RemoteError) as info:
        camera.unserialisable()
    assert info.value.code == -32603
    assert info.value.data["type"] == "object"


def test_unknown_object_gets_error_within_timeout(endpoints):
    c = RocClient(endpoints, timeout=2.0)
    try:
        with pytest.raises(RocObjectNotFound) as info:
            c["nobody"].anything()
        assert info.value.code == -32001
        assert "nobody" in str(info.value)
        assert c.exists("nobody") is False
    finally:
        c.close()


def test_mmi_service(client, camera):
    camera.add(1)
    assert client.exists("cam") is True
    assert client.call("mmi.service", "mmi.service", ["cam"]) == "200"
    assert client.call("mmi.nosuch", "mmi.nosuch", ["cam"]) == "501"


def test_seed_example_flow(endpoints):
    """The seed: a broker, a server sharing 'vnir', a client calling openShutter() and fps."""
    from pytest_robofixtures.sim.roc_objects import start_sample_objects

    objs = start_sample_objects(endpoints, heartbeat_interval=0.1, status_period=0.05)
    try:
        c = RocClient(endpoints)
        c.wait_for_object("vnir", 5)
        vnir = c["vnir"]
        assert vnir.openShutter() is True
        assert vnir.fps == 10.0
        assert vnir.shutter_open is True
        summary = vnir.capture(frames=3)
        assert summary["frames"] == 3 and summary["width"] == 64
        vnir.closeShutter()
        with pytest.raises(RuntimeError, match="shutter is closed"):
            vnir.capture()
        rover = c["rover"]
        c.wait_for_object("rover", 5)
        pose = rover.drive(0.5, 0.0, duration=2.0)
        assert pose[0] == pytest.approx(1.0)
        assert rover.battery < 100
        with pytest.raises(ValueError):
            rover.drive(5.0)
        c.close()
    finally:
        objs.stop()
