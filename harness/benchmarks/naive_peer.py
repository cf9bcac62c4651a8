"""B5's peer: a GARCH API written the way public ones are (one worker, arch called inside `async def`).

Served by plain `uvicorn naive_peer:app`. It answers what the service answers for a custom fit (parameters,
standard errors, likelihood, forecast), so the comparison is about how the work is served, not how much is done.
"""

from typing import Any

import numpy as np
from arch import arch_model
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI(title="naive GARCH API")


class FitRequest(BaseModel):
    returns: list[float]
    horizon: int = 5


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/predict/custom")
async def predict_custom(request: FitRequest) -> dict[str, Any]:
    result = arch_model(request.returns, vol="GARCH", p=1, q=1).fit(disp="off")
    variance = result.forecast(horizon=request.horizon).variance.iloc[-1]
    return {
        "params": result.params.to_dict(),
        "std_errors": result.std_err.to_dict(),
        "loglikelihood": result.loglikelihood,
        "aic": result.aic,
        "bic": result.bic,
        "forecast": {"variance": variance.tolist(), "volatility": np.sqrt(variance).tolist()},
    }
