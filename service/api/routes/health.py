"""Liveness and readiness in one probe: 200 once the models are loaded, 503 before (or if loading failed).

It also says which published version of each model this worker serves, so a deployment can be checked against
the model store.
"""

import time

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ... import __version__
from ...schemas import Health, ServedVersion
from ..deps import RegistryDep

router = APIRouter(tags=["operations"])


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "Models are not loaded (yet, or loading failed)."}},
)
async def health(registry: RegistryDep) -> JSONResponse:
    body = Health(
        status="healthy" if registry.ready else "unhealthy",
        version=__version__,
        models_loaded=len(registry.models),
        uptime_s=round(time.monotonic() - registry.started_at, 3),
        detail=None if registry.ready else (registry.error or "loading models"),
        model_store=registry.store_location,
        models=[
            ServedVersion(
                name=served.name,
                version=served.published.version if served.published else None,
                digest=served.published.digest if served.published else None,
            )
            for served in registry.models.values()
        ],
    )
    return JSONResponse(body.model_dump(), status_code=200 if registry.ready else 503)
