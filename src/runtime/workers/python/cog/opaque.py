"""`Annotated[T, Opaque]`: a value kiln passes through as JSON without decoding, schema `{"type": "object"}`."""


class _OpaqueMarker:
    """The one marker object, exported as cog.Opaque."""

    _instance = None

    def __new__(cls) -> "_OpaqueMarker":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "cog.Opaque"


Opaque = _OpaqueMarker()


def is_opaque(meta: object) -> bool:
    return meta is Opaque or isinstance(meta, _OpaqueMarker)
