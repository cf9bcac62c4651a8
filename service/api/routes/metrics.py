"""Prometheus exposition; totals over every worker process."""

from fastapi import APIRouter, Request, Response

from ...metrics import render_latest

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text."}},
)
def prometheus_metrics(request: Request) -> Response:
    body, content_type = render_latest(request.app.state.settings.supervisor_pid)
    return Response(content=body, media_type=content_type)
