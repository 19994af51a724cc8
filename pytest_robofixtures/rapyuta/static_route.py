"""Static routes: stable public URLs for exposed endpoints (core API ``/api/staticroute``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._model import ObjDict
from .errors import InvalidParameterException, OperationNotAllowedError

if TYPE_CHECKING:
    from ._rest import Rest

STATIC_ROUTE_PATH = "/api/staticroute"


class StaticRoute(ObjDict):
    """A static route: ``guid``, ``urlPrefix``, ``urlString`` (its URL), ``projectGUID``, ….

    Built from the server's answer like the SDK's (``StaticRoute(dict)``); ``StaticRoute("guid")``
    stands for a route known only by its guid (enough for ``add_static_route``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and isinstance(args[0], str):
            kwargs.setdefault("guid", args[0])
            args = args[1:]
        super().__init__(*args, **kwargs)
        self._rest: Rest | None = None
        guid = self.get("guid")
        if not isinstance(guid, str) or not guid:
            raise InvalidParameterException(f"a static route needs a guid; got {guid!r}")

    @classmethod
    def from_wire(cls, data: dict[str, Any], rest: Rest) -> StaticRoute:
        """From a server answer, bound to ``rest`` for :meth:`delete`."""
        route = cls(data)
        route._rest = rest
        return route

    def delete(self) -> bool:
        """Delete the route (``DELETE /api/staticroute/delete``); clears this object."""
        if self._rest is None:
            raise OperationNotAllowedError(
                "this StaticRoute is not bound to a client: use client.delete_static_route(guid)")
        body = delete_static_route(self._rest, self["guid"])
        if isinstance(body, dict) and body.get("success"):
            self.clear()
            return True
        return False


def core_call(rest: Rest, method: str, path: str, *, params: Any = None,
              json_body: Any = None) -> Any:
    """A core API call answering raw JSON (static routes, secrets)."""
    resp = rest.request(method, rest.core_api_host + path, params=params, json_body=json_body)
    return rest.parse(resp)


def delete_static_route(rest: Rest, guid: str) -> Any:
    """``DELETE /api/staticroute/delete`` with ``{"guid": guid}``; the raw answer."""
    return core_call(rest, "DELETE", f"{STATIC_ROUTE_PATH}/delete", json_body={"guid": guid})
