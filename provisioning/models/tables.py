"""Markdown tables of model evaluations: what `publish` decided and what `models` finds in a store."""

from collections.abc import Sequence
from dataclasses import dataclass

from service.model_store import ModelStore
from service.model_store.artifact import ModelArtifact


@dataclass(frozen=True, slots=True)
class Row:
    artifact: ModelArtifact
    version: str | None
    status: str


HEADER = (
    "model",
    "spec",
    "version",
    "held-out window",
    "QLIKE model",
    "QLIKE EWMA",
    "QLIKE rolling",
    "MSE model",
    "MSE EWMA",
    "MSE rolling",
    "status",
)


def evaluation_table(rows: Sequence[Row]) -> str:
    """One line a model: its out-of-sample losses next to the benchmarks', and what became of it."""
    lines = [_line(HEADER), _line(tuple("---" for _ in HEADER))]
    for row in rows:
        evaluation = row.artifact.evaluation
        scores = evaluation.scores
        lines.append(
            _line(
                (
                    row.artifact.name,
                    row.artifact.spec.to_spec().label,
                    row.version or "-",
                    f"{evaluation.first_date}..{evaluation.last_date} ({evaluation.n_obs} d)",
                    *(f"{scores[name].qlike:.4f}" for name in ("model", "ewma", "rolling")),
                    *(f"{scores[name].mse:.3f}" for name in ("model", "ewma", "rolling")),
                    row.status,
                )
            )
        )
    return "\n".join(lines)


def gate_status(artifact: ModelArtifact, published: bool) -> str:
    gate = artifact.evaluation.gate
    verdict = "published" if published else "REFUSED"
    return f"{verdict}: QLIKE {gate.improvement:+.4f} vs {gate.benchmark} (margin {gate.margin:g})"


def store_rows(store: ModelStore) -> list[Row]:
    """The current version of every model in the store, with when it was published and how many versions exist."""
    rows = []
    for name in store.names():
        pointer = store.pointer(name)
        stored = store.current(name)
        status = f"current since {pointer.published_at:%Y-%m-%d %H:%M:%S}Z, {len(store.versions(name))} version(s)"
        rows.append(Row(stored.artifact, stored.version, status))
    return rows


def _line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"
