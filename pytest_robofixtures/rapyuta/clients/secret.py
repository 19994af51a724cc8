"""Mirror of ``rapyuta_io.clients.secret``."""

from __future__ import annotations

from ..secret import DOCKER_HUB_REGISTRY, Secret, SecretConfigDocker, SecretType

__all__ = ["DOCKER_HUB_REGISTRY", "Secret", "SecretConfigDocker", "SecretType"]
