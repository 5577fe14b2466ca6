"""GX's Data Docs views, rendering from compiled templates kept on disk (`template_cache`).

GX builds the site's views from its site configuration (`view: {module_name, class_name, ...}` of each
section builder and of the index builder), passing the configuration's other keys to the view's
constructor: `gx_runtime` names these classes there with `bytecode_cache`, a folder. That is GX's own
hook, so no GX class is patched. The views render exactly what GX's do: only where the compiled
template comes from differs. GX loads this module by name, after `gx_runtime.import_gx`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from great_expectations import __version__ as gx_version
from great_expectations.render.view.view import DefaultJinjaIndexPageView, DefaultJinjaPageView

from pipelines.gate.template_cache import VerifiedBytecodeCache, cache_folder


class _CompiledOnce:
    """Attaches the template cache to the GX view it is mixed into, after GX's own constructor."""

    env: Any

    # GX passes the custom folders by parameter name (it inspects the constructor), hence spelled out.
    def __init__(
        self,
        custom_styles_directory: str | None = None,
        custom_views_directory: str | None = None,
        bytecode_cache: str | None = None,
    ) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)  # type: ignore[call-arg]
        if bytecode_cache is not None:
            folder = cache_folder(Path(bytecode_cache), gx_version=gx_version)
            self.env.bytecode_cache = VerifiedBytecodeCache(folder)


class CachedPageView(_CompiledOnce, DefaultJinjaPageView):
    """A page of the site (a validation result), as `DefaultJinjaPageView` renders it."""


class CachedIndexPageView(_CompiledOnce, DefaultJinjaIndexPageView):
    """The site's index page, as `DefaultJinjaIndexPageView` renders it."""
