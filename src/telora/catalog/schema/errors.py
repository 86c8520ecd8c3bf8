"""Collecting every error with its YAML path, so one run reports them all."""

from __future__ import annotations

from telora.core.services import ServiceError


def join(path: str, key) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


class Errors:
    def __init__(self):
        self.items: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.items.append((path, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def lines(self) -> list[str]:
        return [f"{path}: {message}" if path else message for path, message in self.items]


class CatalogError(ServiceError):
    """Validation refused the input; `errors` holds every (path, message), `field` the first path."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = list(errors)
        lines = [f"{path}: {message}" if path else message for path, message in self.errors]
        super().__init__("; ".join(lines) or "invalid", field=self.errors[0][0] if self.errors else None)

    def lines(self) -> list[str]:
        return [f"{path}: {message}" if path else message for path, message in self.errors]
