"""What can go wrong with a model store, each in one line that names the store and the artifact."""


class ModelStoreError(RuntimeError):
    """Any failure to read or write published models; the message says where and what to try."""


class StoreUnreachable(ModelStoreError):
    """The store does not exist, refuses us, or does not answer (a wrong path, URL, credential or network)."""


class ModelNotPublished(ModelStoreError):
    """The store holds no current version (or not the asked-for version) of a model."""


class ArtifactCorrupt(ModelStoreError):
    """The bytes are not the artifact that was published: truncated, not JSON, off-schema, or tampered with."""


class ArtifactIncompatible(ModelStoreError):
    """A well-formed artifact this service cannot serve faithfully (another arch major version, newer schema)."""
