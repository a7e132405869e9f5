"""The hooks a stochmem plugin may implement. Each docstring is the hook's contract.

A plugin is a module (or object) registered under the entry-point group ``stochmem.backends``::

    [project.entry-points."stochmem.backends"]
    mybackend = "my_package.stochmem_plugin"

and implements hooks with ``@stochmem.hookimpl``. The built-in backends register exactly this way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from stochmem.backend_api import BackendRegistry

PROJECT = "stochmem"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def stochmem_register_backends(registry: BackendRegistry) -> None:
    """Register this plugin's backends by calling ``registry.add(...)`` once per backend.

    Called once, when the host first needs the list of backends. Registration must be cheap: pass a
    ``load`` callable that imports the engine lazily, so that a plugin whose optional dependency is missing can
    still be listed (``registry.add_unavailable(name, reason)``) and nothing else breaks.
    """
