// The map's base layer. With a tile service (MAP_TILE_URL, the government network's intranet tiles) the
// tiles; without one (an offline desk) the offline vector base map from the server (grids/basemap.py:
// roads, rivers, parks, landmarks of the demo district), drawn on a canvas in a pane of its own under the
// boundaries and markers. Dark tones on the big screen (body.theme-dark). Not interactive: decoration.
import {getJSON} from "./common.js";

const LIGHT = {
  road_major: {color: "#ffffff", weight: 6, casing: "#c3cbd4"}, road_minor: {color: "#ffffff", weight: 3.5, casing: "#d3d9e0"},
  river: {color: "#8fc1e8", weight: 9}, park: {color: "#b9dcb0", fillColor: "#d4ebcd", fillOpacity: 1, weight: 1},
};
const DARK = {
  road_major: {color: "#2c4168", weight: 5, casing: "#22355a"}, road_minor: {color: "#24385c", weight: 3, casing: "#1c2d4d"},
  river: {color: "#1d4f7a", weight: 8}, park: {color: "#1d3b33", fillColor: "#17312b", fillOpacity: 1, weight: 1},
};

export function addBaseLayer(map, cfg) {
  if (cfg.tileUrl) {
    L.tileLayer(cfg.tileUrl, {maxZoom: 19}).addTo(map);
    return Promise.resolve(null);
  }
  if (!cfg.basemapUrl) { return Promise.resolve(null); }
  const styles = document.body.classList.contains("theme-dark") ? DARK : LIGHT;
  const pane = map.createPane("basemap");
  pane.style.zIndex = 250;               // above tiles (200), under boundaries and markers (400+)
  pane.style.pointerEvents = "none";
  const renderer = L.canvas({pane: "basemap", padding: 0.3});
  // Labels in a pane of their own, above the base map's canvas (never under a road) and under the markers.
  map.createPane("basemapLabels").style.zIndex = 350;
  const group = L.layerGroup().addTo(map);
  return getJSON(cfg.basemapUrl).then((fc) => {
    const kinds = ["park", "river", "road_minor", "road_major"];
    kinds.forEach((kind) => {
      const features = fc.features.filter((f) => f.properties.kind === kind);
      const s = styles[kind];
      if (s.casing) {   // a road: a darker casing under a lighter line
        group.addLayer(L.geoJSON(features, {pane: "basemap", renderer, interactive: false,
                                            style: {color: s.casing, weight: s.weight + 2, lineCap: "round"}}));
      }
      group.addLayer(L.geoJSON(features, {pane: "basemap", renderer, interactive: false,
                                          style: Object.assign({lineCap: "round", lineJoin: "round"}, s)}));
    });
    // Landmarks and rivers by name: small labels (text, never HTML), the landmarks with a dot.
    fc.features.filter((f) => f.properties.kind === "landmark").forEach((f) => {
      const c = f.geometry.coordinates;
      group.addLayer(L.circleMarker([c[1], c[0]], {pane: "basemap", renderer, interactive: false, radius: 3,
                                                    color: "#5b6875", weight: 1, fillColor: "#fff", fillOpacity: 1})
        .bindTooltip(label(f.properties.name), {permanent: true, direction: "right", className: "basemap-label", pane: "basemapLabels"}));
    });
    return group;
  }).catch(() => null);   // decoration: the boundaries and markers still draw on the plain background
}
function label(text) {
  const span = document.createElement("span");
  span.textContent = text;
  return span;
}
