"""A small schema language for request bodies, shaped like the SDK models' `_validation`/`_attribute_map`.

A schema checks one JSON value and raises ArmError (400) naming the offending property by its JSON path, e.g.
`properties.containers[0].properties.resources.requests.cpu`. Like ARM's resource providers it ignores properties
it does not know and compares enum values case-insensitively unless told otherwise.
"""

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from harness.arm_emulator.errors import ArmError, invalid_property

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
RESOURCE_ID = re.compile(r"^/subscriptions/[^/]+(/resourceGroups/[^/]+)?(/providers/[^/]+(/[^/]+/[^/]+)+)?$", re.I)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DURATION = re.compile(r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$")


def describe(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_duration(text: str) -> timedelta | None:
    """ISO 8601 durations as ARM's TimeSpan fields take them (days, hours, minutes, seconds)."""
    match = DURATION.match(text)
    if not match or text in {"P", "PT"} or text.endswith("T"):
        return None
    parts = {key: int(value) for key, value in match.groupdict().items() if value}
    return timedelta(**parts)


class Schema:
    code: str | None = None

    def check(self, value: Any, path: str) -> None:
        raise NotImplementedError

    def fail(self, path: str, problem: str) -> ArmError:
        return invalid_property(path, problem, self.code or "InvalidRequestContent")


@dataclass(frozen=True)
class Anything(Schema):
    def check(self, value: Any, path: str) -> None:
        return None


@dataclass(frozen=True)
class Str(Schema):
    enum: Sequence[str] | None = None
    case_sensitive: bool = False
    pattern: str | None = None
    pattern_hint: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    format: str | None = None  # "guid", "resource_id", "email", "uri", "duration"
    durations: Sequence[str] | None = None  # allowed values compared as durations (PT60M == PT1H)
    code: str | None = None

    def check(self, value: Any, path: str) -> None:
        if not isinstance(value, str):
            raise self.fail(path, f"must be a string, not {describe(value)}")
        if self.min_length is not None and len(value) < self.min_length:
            raise self.fail(path, f"must be at least {self.min_length} characters long, not {describe(value)}")
        if self.max_length is not None and len(value) > self.max_length:
            raise self.fail(path, f"must be at most {self.max_length} characters long, not {describe(value)}")
        if self.enum is not None:
            allowed = list(self.enum)
            found = value in allowed if self.case_sensitive else value.lower() in {item.lower() for item in allowed}
            if not found:
                raise self.fail(path, f"must be one of {', '.join(allowed)}, not {describe(value)}")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise self.fail(path, self.pattern_hint or f"does not match {self.pattern}: {describe(value)}")
        if self.format is not None and not _FORMATS[self.format](value):
            raise self.fail(path, f"must be a valid {self.format.replace('_', ' ')}, not {describe(value)}")
        if self.durations is not None:
            duration = parse_duration(value)
            allowed_durations = [parse_duration(item) for item in self.durations]
            if duration is None or duration not in allowed_durations:
                raise self.fail(path, f"must be one of {', '.join(self.durations)}, not {describe(value)}")


def _is_uri(value: str) -> bool:
    return re.match(r"^https?://[^\s/]+", value) is not None


_FORMATS: dict[str, Callable[[str], bool]] = {
    "guid": lambda value: GUID.match(value) is not None,
    "resource_id": lambda value: RESOURCE_ID.match(value) is not None,
    "email": lambda value: EMAIL.match(value) is not None,
    "uri": _is_uri,
    "duration": lambda value: parse_duration(value) is not None,
}


@dataclass(frozen=True)
class Int(Schema):
    minimum: int | None = None
    maximum: int | None = None
    code: str | None = None

    def check(self, value: Any, path: str) -> None:
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if not is_number or (isinstance(value, float) and not value.is_integer()):
            raise self.fail(path, f"must be an integer, not {describe(value)}")
        if self.minimum is not None and value < self.minimum:
            raise self.fail(path, f"must be at least {self.minimum}, not {describe(value)}")
        if self.maximum is not None and value > self.maximum:
            raise self.fail(path, f"must be at most {self.maximum}, not {describe(value)}")


@dataclass(frozen=True)
class Num(Schema):
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    code: str | None = None

    def check(self, value: Any, path: str) -> None:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self.fail(path, f"must be a number, not {describe(value)}")
        if self.exclusive_minimum is not None and value <= self.exclusive_minimum:
            raise self.fail(path, f"must be greater than {self.exclusive_minimum:g}, not {describe(value)}")
        if self.minimum is not None and value < self.minimum:
            raise self.fail(path, f"must be at least {self.minimum:g}, not {describe(value)}")
        if self.maximum is not None and value > self.maximum:
            raise self.fail(path, f"must be at most {self.maximum:g}, not {describe(value)}")


@dataclass(frozen=True)
class Bool(Schema):
    code: str | None = None

    def check(self, value: Any, path: str) -> None:
        if not isinstance(value, bool):
            raise self.fail(path, f"must be true or false, not {describe(value)}")


@dataclass(frozen=True)
class Arr(Schema):
    item: Schema
    min_items: int | None = None
    max_items: int | None = None
    unique_by: str | None = None  # a key of object items that must be unique (case-insensitively)
    code: str | None = None

    def check(self, value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise self.fail(path, f"must be an array, not {describe(value)}")
        if self.min_items is not None and len(value) < self.min_items:
            raise self.fail(path, f"must have at least {self.min_items} item(s), not {len(value)}")
        if self.max_items is not None and len(value) > self.max_items:
            raise self.fail(path, f"must have at most {self.max_items} item(s), not {len(value)}")
        for index, item in enumerate(value):
            self.item.check(item, f"{path}[{index}]")
        if self.unique_by is not None:
            seen: set[str] = set()
            for index, item in enumerate(value):
                key = str(item.get(self.unique_by, "")).lower() if isinstance(item, dict) else ""
                if key in seen:
                    raise self.fail(f"{path}[{index}].{self.unique_by}", f"repeats {describe(key)}")
                seen.add(key)


@dataclass(frozen=True)
class Map(Schema):
    values: Schema
    max_items: int | None = None
    code: str | None = None

    def check(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise self.fail(path, f"must be an object, not {describe(value)}")
        if self.max_items is not None and len(value) > self.max_items:
            raise self.fail(path, f"must have at most {self.max_items} entries, not {len(value)}")
        for key, item in value.items():
            self.values.check(item, f"{path}.{key}")


@dataclass(frozen=True)
class Field:
    schema: Schema
    required: bool = False
    code: str | None = None  # the error code when the field is missing


@dataclass(frozen=True)
class Obj(Schema):
    fields: Mapping[str, Field | Schema] = field(default_factory=dict)
    # A discriminator: the field whose value picks one of `variants` (merged over `fields`).
    discriminator: str | None = None
    variants: Mapping[str, "Obj"] = field(default_factory=dict)
    code: str | None = None

    def check(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise self.fail(path, f"must be an object, not {describe(value)}")
        self._check_fields(self.fields, value, path)
        if self.discriminator is not None:
            kind = value.get(self.discriminator)
            prefix = f"{path}." if path else ""
            variant = next(
                (
                    schema
                    for name, schema in self.variants.items()
                    if isinstance(kind, str) and name.lower() == kind.lower()
                ),
                None,
            )
            if variant is None:
                raise invalid_property(
                    f"{prefix}{self.discriminator}",
                    f"must be one of {', '.join(self.variants)}, not {describe(kind)}",
                    self.code or "InvalidRequestContent",
                )
            variant.check(value, path)

    def _check_fields(self, fields: Mapping[str, Field | Schema], value: dict[str, Any], path: str) -> None:
        prefix = f"{path}." if path else ""
        for name, spec in fields.items():
            spec = spec if isinstance(spec, Field) else Field(spec)
            if name not in value or value[name] is None:
                if spec.required:
                    raise invalid_property(
                        f"{prefix}{name}", "is required", spec.code or self.code or "InvalidRequestContent"
                    )
                continue
            spec.schema.check(value[name], f"{prefix}{name}")


def required(schema: Schema, code: str | None = None) -> Field:
    return Field(schema, required=True, code=code)


TAGS = Map(Str(max_length=256), max_items=50)
