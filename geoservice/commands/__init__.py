"""The ``geoservice`` command lines (命令), one module per area; :mod:`geoservice.cli` assembles them.

``server`` (serve, demo, migrate), ``users``, ``imports`` (import divisions|layer|population), ``boundaries``
(markers, boundaries), ``siting`` (siting run|compare), ``addresses`` (addresses, roads door-plates),
``names``. Each has ``add_commands(subparsers, common)``; shared helpers are in ``_common``.
"""
