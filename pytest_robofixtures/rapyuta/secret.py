"""Secrets: credentials the platform uses for private docker registries (core ``/api/secret``)."""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING, Any

from .enums import _StrEnum
from .errors import APIError, InvalidParameterException

if TYPE_CHECKING:
    from ._rest import Rest

DOCKER_HUB_REGISTRY = "https://index.docker.io/v1/"
SECRET_PATH = "/api/secret"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]+[a-z0-9]$")


class SecretType(_StrEnum):
    """Kinds of secret (1.17.1 knows docker registry credentials only)."""

    DOCKER = "kubernetes.io/dockercfg"


class _SecretConfigBase:
    """What a secret holds; subclasses give its type and wire form."""

    def get_type(self) -> SecretType:
        """The secret type of this configuration."""
        raise NotImplementedError

    def serialize(self) -> dict[str, Any]:
        """The ``data`` of the secret on the wire."""
        raise NotImplementedError


class SecretConfigDocker(_SecretConfigBase):
    """Docker registry credentials (``.dockercfg``), e.g. for private images of executables."""

    def __init__(self, username: str, password: str, email: str,
                 registry: str = DOCKER_HUB_REGISTRY) -> None:
        for what, value in (("username", username), ("password", password), ("email", email),
                            ("registry", registry)):
            if not isinstance(value, str) or value == "":
                raise InvalidParameterException(f"{what} cannot be empty")
        self.username, self.password, self.email, self.registry = (
            username, password, email, registry)

    @classmethod
    def get_type(cls) -> SecretType:
        """``SecretType.DOCKER``."""
        return SecretType.DOCKER

    def serialize(self) -> dict[str, Any]:
        """``{".dockercfg": base64(json({registry: {username, password, email, auth}}))}``."""
        auth = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        config = json.dumps({self.registry: {"username": self.username,
                                             "password": self.password, "email": self.email,
                                             "auth": auth}})
        return {".dockercfg": base64.b64encode(config.encode()).decode()}

    def __repr__(self) -> str:  # never show the password
        return f"SecretConfigDocker(username={self.username!r}, registry={self.registry!r})"


class Secret:
    """A secret: ``Secret(name, secret_config)``; from the server also ``guid``, ``creator``…."""

    SECRET_PATH = SECRET_PATH

    def __init__(self, name: str, secret_config: _SecretConfigBase) -> None:
        self.validate(name, secret_config)
        self.name = name
        self._secret_config: _SecretConfigBase | None = secret_config
        self.secret_type: Any = secret_config.get_type()
        self.guid: str | None = None
        self.created_at: str | None = None
        self.creator: str | None = None
        self.project_guid: str | None = None
        self._rest: Rest | None = None

    @staticmethod
    def validate(name: Any, secret_config: Any) -> None:
        """The SDK's checks of a name and configuration."""
        if not isinstance(name, str):
            raise InvalidParameterException("name must be a string")
        if not 3 <= len(name) <= 253:
            raise InvalidParameterException("length of name must be between 3 and 253 characters")
        if not _NAME.match(name):
            raise InvalidParameterException(
                "name must consist of lower case alphanumeric characters or - and must start and "
                "end with an alphanumeric character")
        if not isinstance(secret_config, _SecretConfigBase):
            raise InvalidParameterException("secret_config must be of type SecretConfigDocker")

    def serialize(self) -> dict[str, Any]:
        """The create/update body: ``type``, ``name`` and ``data``."""
        if self._secret_config is None:
            raise InvalidParameterException(
                "a secret read from the server has no data: build Secret(name, config) to send")
        return {"type": str(self.secret_type), "name": self.name,
                "data": self._secret_config.serialize()}

    @classmethod
    def deserialize(cls, data: dict[str, Any], rest: Rest | None = None) -> Secret:
        """A secret from a server answer (the credentials are never sent back)."""
        if not isinstance(data, dict):
            raise APIError(f"expected a secret object, got {str(data)[:200]}")
        secret = cls.__new__(cls)
        secret._secret_config, secret._rest = None, rest
        secret.created_at, secret.guid = data.get("CreatedAt"), data.get("guid")
        secret.name, secret.creator = data.get("name"), data.get("creator")  # type: ignore
        secret.project_guid = data.get("projectGUID")
        value = data.get("type")
        secret.secret_type = SecretType(value) if value in {t.value for t in SecretType} \
            else value
        return secret

    def delete(self) -> None:
        """Delete the secret (``DELETE /api/secret/delete``)."""
        if self._rest is None or not self.guid:
            raise InvalidParameterException("Secret must be created first")
        delete_secret(self._rest, self.guid)

    def __repr__(self) -> str:
        return f"Secret(name={self.name!r}, guid={self.guid!r}, type={self.secret_type!s})"


def delete_secret(rest: Rest, guid: str) -> None:
    """``DELETE /api/secret/delete`` with ``{"guid": guid}``."""
    rest.request("DELETE", f"{rest.core_api_host}{SECRET_PATH}/delete", json_body={"guid": guid})
