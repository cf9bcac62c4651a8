#!/usr/bin/env bash
# Push the built image to a registry under an immutable tag (the git revision) plus the version and `latest`.
# Usage: scripts/push_image.sh REGISTRY   (e.g. myacr.azurecr.io; log in first: `az acr login -n myacr`)
set -euo pipefail

REGISTRY="${1:?usage: push_image.sh REGISTRY}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="${IMAGE:-garch-mlops}"
VERSION="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/pyproject.toml" | head -1)"
REVISION="$(git -C "$ROOT" rev-parse --short=12 HEAD)"

for tag in "$REVISION" "$VERSION" latest; do
    docker tag "$IMAGE:$VERSION" "$REGISTRY/$IMAGE:$tag"
    docker push "$REGISTRY/$IMAGE:$tag" >&2 || { echo "push_image: pushing $REGISTRY/$IMAGE:$tag failed" >&2; exit 1; }
done
echo "$REGISTRY/$IMAGE:$REVISION"
