/* geoservice map page: our own vector tiles (/tiles/{layer}/{z}/{x}/{y}.mvt) drawn on canvas (矢量瓦片).
   What is not visible in detail comes as tiles, a few KB each, instead of every feature as GeoJSON: roads and
   division boundaries at city scale. A small reader of the Mapbox Vector Tile protobuf (layers, features,
   tags, geometry commands) and an L.GridLayer that strokes lines and polygon rings; points are not drawn. */
(function () {
  "use strict";

  // -- protobuf ---------------------------------------------------------------------------------------------
  function Reader(bytes) { this.buf = bytes; this.pos = 0; }
  Reader.prototype.varint = function () {
    var result = 0, shift = 0, b;
    do { b = this.buf[this.pos++]; result += (b & 0x7f) * Math.pow(2, shift); shift += 7; } while (b & 0x80);
    return result;
  };
  Reader.prototype.bytes = function () { var n = this.varint(), start = this.pos; this.pos += n; return this.buf.subarray(start, this.pos); };
  Reader.prototype.skip = function (wire) {
    if (wire === 0) this.varint(); else if (wire === 1) this.pos += 8; else if (wire === 2) this.pos += this.varint(); else if (wire === 5) this.pos += 4;
    else throw new Error("MVT: unknown wire type " + wire);
  };
  function fields(bytes, each) {
    var r = new Reader(bytes);
    while (r.pos < r.buf.length) { var tag = r.varint(); each(tag >> 3, tag & 7, r); }
  }
  var utf8 = new TextDecoder();
  function value(bytes) {  // Value: string 1, float 2, double 3, int 4, uint 5, sint 6, bool 7
    var v = null;
    fields(bytes, function (field, wire, r) {
      if (field === 1) v = utf8.decode(r.bytes());
      else if (field === 4 || field === 5) v = r.varint();
      else if (field === 7) v = !!r.varint();
      else r.skip(wire);
    });
    return v;
  }
  function packed(bytes) { var r = new Reader(bytes), out = []; while (r.pos < r.buf.length) out.push(r.varint()); return out; }

  // A tile as {layer name: {extent, features: [{type, properties, rings}]}}; rings in tile units.
  function decode(buffer) {
    var layers = {};
    fields(new Uint8Array(buffer), function (field, wire, r) {
      if (field !== 3) { r.skip(wire); return; }
      var layer = { name: "", extent: 4096, keys: [], values: [], raw: [] };
      fields(r.bytes(), function (f, w, lr) {
        if (f === 1) layer.name = utf8.decode(lr.bytes());
        else if (f === 2) layer.raw.push(lr.bytes());
        else if (f === 3) layer.keys.push(utf8.decode(lr.bytes()));
        else if (f === 4) layer.values.push(value(lr.bytes()));
        else if (f === 5) layer.extent = lr.varint();
        else lr.skip(w);
      });
      layer.features = layer.raw.map(function (bytes) { return feature(bytes, layer); });
      layers[layer.name] = layer;
    });
    return layers;
  }
  function feature(bytes, layer) {
    var out = { type: 0, properties: {}, rings: [] }, tags = [], geometry = [];
    fields(bytes, function (field, wire, r) {
      if (field === 2) tags = packed(r.bytes());
      else if (field === 3) out.type = r.varint();
      else if (field === 4) geometry = packed(r.bytes());
      else r.skip(wire);
    });
    for (var i = 0; i + 1 < tags.length; i += 2) out.properties[layer.keys[tags[i]]] = layer.values[tags[i + 1]];
    var x = 0, y = 0, ring = null, n = 0;
    while (n < geometry.length) {
      var command = geometry[n++], id = command & 7, count = command >> 3;
      if (id === 7) { if (ring && ring.length) ring.push(ring[0]); continue; }  // ClosePath
      for (var k = 0; k < count; k++) {
        var dx = geometry[n++], dy = geometry[n++];
        x += (dx >>> 1) ^ -(dx & 1); y += (dy >>> 1) ^ -(dy & 1);
        if (id === 1) { ring = [[x, y]]; out.rings.push(ring); } else ring.push([x, y]);
      }
    }
    return out;
  }

  // -- the layer --------------------------------------------------------------------------------------------
  // options.layer: the tile layer's name; options.filter(properties) → draw?; options.style {color, weight, dash}
  L.VectorTiles = L.GridLayer.extend({
    options: { layer: null, filter: null, style: { color: "#555", weight: 1 } },
    initialize: function (url, options) { this._url = url; L.setOptions(this, options); },
    createTile: function (coords, done) {
      var tile = document.createElement("canvas"), size = this.getTileSize(), options = this.options;
      tile.width = size.x; tile.height = size.y;
      var url = L.Util.template(this._url, coords);
      fetch(url).then(function (r) { return r.status === 200 ? r.arrayBuffer() : null; }).then(function (buffer) {
        if (buffer) draw(tile, decode(buffer)[options.layer], options, size);
        done(null, tile);
      }).catch(function (e) { done(e, tile); });
      return tile;
    }
  });
  function draw(canvas, layer, options, size) {
    if (!layer) return;
    var ctx = canvas.getContext("2d"), scale = size.x / layer.extent, style = options.style;
    ctx.strokeStyle = style.color; ctx.lineWidth = style.weight; ctx.lineJoin = "round"; ctx.lineCap = "round";
    if (style.dash) ctx.setLineDash(style.dash);
    ctx.beginPath();
    layer.features.forEach(function (f) {
      if (f.type === 1 || (options.filter && !options.filter(f.properties))) return;
      f.rings.forEach(function (ring) {
        ring.forEach(function (p, i) { (i ? ctx.lineTo : ctx.moveTo).call(ctx, p[0] * scale, p[1] * scale); });
      });
    });
    ctx.stroke();
  }
  L.vectorTiles = function (url, options) { return new L.VectorTiles(url, options); };
  L.VectorTiles.decode = decode;
})();
