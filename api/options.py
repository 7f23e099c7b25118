"""`OPTIONS` names every method of its path.

Litestar answers `OPTIONS` with the methods of the first route it made for a path; when the path
gets more handlers later (a controller's router merged into the app's), its `Allow` leaves them
out (`OPTIONS /api/canvas` said `OPTIONS, POST`, not `GET`). `name_every_method(app)` points each
`OPTIONS` handler at the route that now serves its path.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.routes import HTTPRoute


def name_every_method(app: Litestar) -> None:
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            fn = handler.fn
            if handler.http_methods != {"OPTIONS"} or fn.__name__ != "options_handler":
                continue
            # Litestar's options handler reads the methods of the route it closes over (`self`)
            for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=False):
                if name == "self" and isinstance(cell.cell_contents, HTTPRoute):
                    cell.cell_contents = route
