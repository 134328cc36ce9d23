"""Open OGC API collections in QGIS's OAPIF provider and print what QGIS sees (run by the system python3).

Usage: ``QT_QPA_PLATFORM=offscreen /usr/bin/python3 qgis_probe.py BASE_URL MINLON,MINLAT,MAXLON,MAXLAT ID…``;
an ID may carry a QGIS filter expression, ``ID::EXPRESSION`` (e.g. ``place_names::"category" = 'road'``).
Prints one JSON object per ID: ``valid``, ``crs`` (authid), ``geometry_type`` (QgsWkbTypes display
string), ``features_in_box`` (features QGIS returns for the box, filtered by the expression if given) and
``error``. This file runs outside the
project's venv (Debian's python3-qgis), so it imports nothing of geoservice.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    from qgis.core import Qgis, QgsApplication, QgsFeatureRequest, QgsRectangle, QgsVectorLayer, QgsWkbTypes

    base, box, *collections = sys.argv[1:]
    minx, miny, maxx, maxy = (float(v) for v in box.split(","))
    app = QgsApplication([], False)
    app.initQgis()
    for argument in collections:
        collection, _, expression = argument.partition("::")
        # Only the features of the requested box, as QGIS does with "only request features overlapping the view".
        uri = f"url='{base}' typename='{collection}' restrictToRequestBBOX='1'"
        layer = QgsVectorLayer(uri, collection, "OAPIF")
        row: dict[str, object] = {
            "collection": argument,
            "valid": layer.isValid(),
            "qgis": Qgis.QGIS_VERSION,
        }
        if layer.isValid():
            request = QgsFeatureRequest().setFilterRect(QgsRectangle(minx, miny, maxx, maxy))
            if expression:
                request.setFilterExpression(expression)
            row |= {
                "crs": layer.crs().authid(),
                "geometry_type": QgsWkbTypes.displayString(layer.wkbType()),
                "features_in_box": sum(1 for f in layer.getFeatures(request) if f.hasGeometry()),
            }
        else:
            row["error"] = layer.error().summary()
        print(json.dumps(row, ensure_ascii=False), flush=True)
    sys.stdout.flush()
    os._exit(0)  # QGIS 3.22 can crash in exitQgis() when run headless; everything is printed by now


if __name__ == "__main__":
    main()
