"""asyncio without ssl until something uses TLS.

asyncio's event-loop modules (base_events, selector_events, sslproto) import ssl as they load, and ssl
loads OpenSSL: about 6 MB of an idle `async def` worker that may never open a TLS connection. With
install(), the first `import asyncio` (the worker's own, or the predictor's) runs with ssl hidden from
the importing thread, so asyncio takes its "no ssl module" branch (ssl = None), and those modules then
get a stand-in that imports the real ssl on first use and puts it back in their place. A predictor
that uses TLS (aiohttp, httpx, asyncio.open_connection(ssl=...)) works as before; one that imports ssl
itself simply has it. Nothing changes when ssl or asyncio is already loaded.
"""

import sys
import threading
from typing import Any, Optional

# The asyncio modules that bind `ssl` at import time (3.10-3.13).
_MODULES = ("asyncio.base_events", "asyncio.selector_events", "asyncio.sslproto")


class _SslOnFirstUse:
    """Stands in for the ssl module inside asyncio; the first attribute read loads the real one."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_load_ssl(), name)

    def __repr__(self) -> str:
        return "<ssl, loaded on first use by kiln>"


_STAND_IN = _SslOnFirstUse()
_lock = threading.Lock()


def _load_ssl() -> Any:
    import ssl

    with _lock:
        for name in _MODULES:
            module = sys.modules.get(name)
            if module is not None and getattr(module, "ssl", None) is _STAND_IN:
                module.ssl = ssl
        sslproto = sys.modules.get("asyncio.sslproto")
        # 3.11+ defines this tuple only when ssl imported; its handlers read it as a global.
        if sslproto is not None and not hasattr(sslproto, "SSLAgainErrors"):
            sslproto.SSLAgainErrors = (ssl.SSLWantReadError, ssl.SSLSyscallError)  # type: ignore[attr-defined]
    return ssl


class _HideSsl:
    """A meta-path finder: `import ssl` fails in the one thread running asyncio's first import."""

    def __init__(self) -> None:
        self.thread: Optional[int] = None

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name == "ssl" and self.thread == threading.get_ident():
            raise ImportError("ssl is loaded on first use (kiln)", name="ssl")
        if name == "asyncio" and self.thread is None:
            return self._asyncio_spec()
        return None

    def _asyncio_spec(self) -> Any:
        import importlib.machinery

        uninstall()
        if "ssl" in sys.modules:
            return None
        spec = importlib.machinery.PathFinder.find_spec("asyncio")
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        spec.loader = _HidingLoader(spec.loader, self)
        return spec


class _HidingLoader:
    """asyncio's own loader, executing the package with ssl hidden from this thread."""

    def __init__(self, loader: Any, finder: _HideSsl) -> None:
        self._loader = loader
        self._finder = finder

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        finder = self._finder
        finder.thread = threading.get_ident()
        sys.meta_path.insert(0, finder)
        try:
            self._loader.exec_module(module)
        finally:
            finder.thread = -1  # done: never hides again
            if finder in sys.meta_path:
                sys.meta_path.remove(finder)
            # Leave no trace of this wrapper on the module.
            module.__loader__ = self._loader
            if getattr(module, "__spec__", None) is not None:
                module.__spec__.loader = self._loader
        with _lock:
            for name in _MODULES:
                loaded = sys.modules.get(name)
                if loaded is not None and getattr(loaded, "ssl", 0) is None:
                    loaded.ssl = _STAND_IN
        if "ssl" in sys.modules:  # another thread loaded it meanwhile: no need to wait for first use
            _load_ssl()


_finder: Optional[_HideSsl] = None


def install() -> None:
    """Until asyncio is first imported: import it without ssl (a no-op once either is loaded)."""
    global _finder
    if _finder is not None or "asyncio" in sys.modules or "ssl" in sys.modules:
        return
    _finder = _HideSsl()
    sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    if _finder is not None and _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
