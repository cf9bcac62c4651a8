"""The GARCH_* variables that override azure_config.yaml (`GARCH_MONITORING__HEALTH_CHECK_INTERVAL_S=2`), checked
against the settings they name, so a typo is reported as the variable it is and not ignored or blamed on the file."""

import difflib
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values
from pydantic import BaseModel

PREFIX = "GARCH_"
DELIMITER = "__"
DOTENV = Path(".env")


def override_variables(environ: Mapping[str, str], dotenv: Path = DOTENV) -> dict[str, str]:
    """Every override-shaped variable (GARCH_<SECTION>__<KEY>...), upper-cased, from the environment and the .env
    file (the environment wins), and where it was set. Every setting is inside a section, so a GARCH_ variable
    without the delimiter is not an override: the project's other variables (GARCH_MLOPS_SESSION) look like that."""
    names = [(name, "the environment") for name in environ]
    if dotenv.is_file():
        names += [(name, str(dotenv)) for name in dotenv_values(dotenv)]
    found: dict[str, str] = {}
    for name, where in names:
        upper = name.upper()
        if upper.startswith(PREFIX) and DELIMITER in upper:
            found.setdefault(upper, where)
    return found


def variable_for(location: tuple[str | int, ...]) -> str:
    """The variable that sets the setting at `location` (("monitoring", "health_check_interval_s"))."""
    return PREFIX + DELIMITER.join(str(part) for part in location).upper()


def unknown_override(model: type[BaseModel], variables: Mapping[str, str]) -> str | None:
    """A one-line error for the first variable that names no setting of `model`, with the closest one that does;
    None when they all do. Below a setting that is not a section (a mapping, say) any key is the value's business."""
    for variable, where in sorted(variables.items()):
        parts = variable.removeprefix(PREFIX).lower().split(DELIMITER)
        section: type[BaseModel] | None = model
        for depth, part in enumerate(parts):
            if section is None:
                break
            fields = section.model_fields
            if part not in fields:
                close = difflib.get_close_matches(part, list(fields), n=1)
                hint = (
                    f" (did you mean {variable_for((*parts[:depth], close[0], *parts[depth + 1 :]))}?)" if close else ""
                )
                origin = "" if where == "the environment" else f" (in {where})"
                return f"{variable}{origin}: no such setting{hint}"
            annotation = fields[part].annotation
            section = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return None
