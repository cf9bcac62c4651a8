# Python 3.11 base for the service image where python:3.11-slim cannot be pulled: Debian bookworm's python3 on a
# debootstrap'ed root filesystem (see scripts/build_base_image.sh). Classic builder syntax only.
ARG DEBIAN_IMAGE=debian-local:bookworm
FROM ${DEBIAN_IMAGE}

ARG DEBIAN_MIRROR=http://deb.debian.org/debian
ARG DEBIAN_SECURITY_MIRROR=http://deb.debian.org/debian-security
# Build-time only: an ENV would leak into every container of the service image.
ARG DEBIAN_FRONTEND=noninteractive
ENV LANG=C.UTF-8

# debootstrap configures only the release itself; add updates and security fixes before installing.
RUN printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-security main\n' \
        "$DEBIAN_MIRROR" "$DEBIAN_MIRROR" "$DEBIAN_SECURITY_MIRROR" >/etc/apt/sources.list \
    && apt-get update \
    && apt-get upgrade -y \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/* \
    && python3 --version
