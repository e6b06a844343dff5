"""The pages' maps (Leaflet; app/web/static/js/map-common.js): what they load first."""

# District outlines are first fetched (and preloaded by the page) drawn for this zoom: a city
# fills a screen around zoom 10 or 11, where these are within half a pixel of the truth. The map
# fetches finer ones as its reader zooms in closer.
DISTRICTS_ZOOM = 12
