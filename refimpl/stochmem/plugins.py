"""The plugin host: finds every backend, built-in or third-party, through one pluggy hook.

Plugins come from

1. the built-in ``reference`` plugin (:mod:`stochmem.reference_backend`), always registered: it *is* the
   specification;
2. the entry-point group ``stochmem.backends`` (the built-in NumPy backend registers there exactly as a
   third-party package would), unless ``STOCHMEM_DISABLE_PLUGIN_AUTOLOAD`` is set;
3. modules named in ``STOCHMEM_PLUGINS`` (comma-separated import paths), e.g. an adapter under development.

``STOCHMEM_BLOCK_PLUGINS`` (comma-separated plugin names) blocks plugins. A plugin that fails to import, that
implements unknown hooks, or whose registration raises, is recorded in ``PluginHost.errors`` with its name
and the reason; it never takes the host down with a traceback from deep inside.
"""

from __future__ import annotations

import functools
import importlib
import os
from importlib.metadata import entry_points
from types import ModuleType

import pluggy

from stochmem import hookspecs
from stochmem.backend_api import Backend, BackendEntry, BackendError, BackendRegistry, protocol_members

ENTRY_POINT_GROUP = "stochmem.backends"
DISABLE_AUTOLOAD_ENV = "STOCHMEM_DISABLE_PLUGIN_AUTOLOAD"
BLOCK_ENV = "STOCHMEM_BLOCK_PLUGINS"
EXTRA_PLUGINS_ENV = "STOCHMEM_PLUGINS"
BUILTIN_PLUGIN = ("reference", "stochmem.reference_backend")


def _names(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class PluginHost:
    """One pluggy manager, its plugins, and the backends they registered."""

    def __init__(self, *, autoload: bool | None = None, blocked: list[str] | None = None,
                 extra_plugins: list[str] | None = None) -> None:
        self.errors: list[str] = []
        self.manager = pluggy.PluginManager(hookspecs.PROJECT)
        self.manager.add_hookspecs(hookspecs)
        for name in blocked if blocked is not None else _names(os.environ.get(BLOCK_ENV)):
            self.manager.set_blocked(name)
        self._register(BUILTIN_PLUGIN[0], lambda: importlib.import_module(BUILTIN_PLUGIN[1]))
        if autoload if autoload is not None else not os.environ.get(DISABLE_AUTOLOAD_ENV):
            for entry_point in entry_points(group=ENTRY_POINT_GROUP):
                self._register(entry_point.name, entry_point.load, entry_point.value)
        for module in extra_plugins if extra_plugins is not None else _names(os.environ.get(EXTRA_PLUGINS_ENV)):
            self._register(module, lambda module=module: importlib.import_module(module))
        self.registry = BackendRegistry()
        self._collect()

    def _register(self, name: str, load: object, origin: str = "") -> None:
        if self.manager.is_blocked(name) or self.manager.has_plugin(name):
            return
        where = f" ({origin})" if origin else ""
        try:
            plugin = load()  # type: ignore[operator]
        except Exception as error:
            self.errors.append(f'Error importing plugin "{name}"{where}: {type(error).__name__}: {error}')
            return
        try:
            self.manager.register(plugin, name=name)
            self.manager.check_pending()
        except Exception as error:
            self.manager.unregister(name=name)
            self.errors.append(f'Plugin "{name}"{where} is invalid: {error}')

    def _collect(self) -> None:
        for impl in reversed(self.manager.hook.stochmem_register_backends.get_hookimpls()):
            self.registry.current_plugin = impl.plugin_name
            try:
                impl.function(registry=self.registry)
            except Exception as error:
                self.errors.append(f'Plugin "{impl.plugin_name}" failed to register its backends: '
                                   f"{type(error).__name__}: {error}")

    @property
    def plugins(self) -> list[tuple[str, ModuleType | object]]:
        return self.manager.list_name_plugin()

    def entries(self) -> list[BackendEntry]:
        """Every registered backend, available or not, by name."""
        return sorted(self.registry.entries.values(), key=lambda entry: entry.name)

    def get(self, name: str) -> Backend:
        """Load backend ``name``; a :class:`~stochmem.backend_api.BackendError` says what is wrong and what to do."""
        entry = self.registry.entries.get(name)
        if entry is None:
            known = ", ".join(sorted(self.registry.entries)) or "none"
            problems = "".join(f"\n  {error}" for error in self.errors)
            raise BackendError(f"unknown backend {name!r}; registered backends: {known}{problems}")
        if entry.load is None:
            raise BackendError(f"backend {name!r} (plugin {entry.plugin!r}) is unavailable: {entry.unavailable}")
        try:
            backend = entry.load()
        except ImportError as error:
            raise BackendError(f"backend {name!r} (plugin {entry.plugin!r}) cannot load: {error}") from error
        except Exception as error:
            raise BackendError(f"backend {name!r} (plugin {entry.plugin!r}) failed to load: "
                               f"{type(error).__name__}: {error}") from error
        if not isinstance(backend, Backend):
            missing = [attr for attr in protocol_members(Backend) if not hasattr(backend, attr)]
            raise BackendError(f"backend {name!r} (plugin {entry.plugin!r}) is malformed: it lacks {missing}")
        return backend


@functools.lru_cache(maxsize=1)
def default_host() -> PluginHost:
    """The host configured from the environment, built once per process."""
    return PluginHost()


#: ``--backend auto``: the first installed of these built-in exact backends, fastest first. Exact backends are
#: bit-identical ([SPEC 6.1]), so the choice changes the speed of a run, never its result.
AUTO = "auto"
AUTO_PREFERENCE = ("numba", "numpy", "reference")


def resolve_backend_name(name: str) -> str:
    """``name`` itself, or for ``auto`` the fastest installed exact built-in backend (``AUTO_PREFERENCE``)."""
    if name != AUTO:
        return name
    entries = default_host().registry.entries
    for candidate in AUTO_PREFERENCE:
        entry = entries.get(candidate)
        if entry is not None and entry.load is not None and entry.capabilities is not None \
                and entry.capabilities.exact:
            return candidate
    return "reference"


def get_backend(name: str) -> Backend:
    """The backend called ``name`` (or ``auto``: see :func:`resolve_backend_name`) from the default host."""
    return default_host().get(resolve_backend_name(name))
