"""A conventional Django GeoReport v2 server, the baseline `python -m bench.versus` measures
civicloop against: Django ORM models (GeoDjango, unmanaged) over the very tables civicloop's
bench seeds, Django REST framework serializers and views, served by gunicorn's sync workers.

It is minimal but honest: the spatial filters use the GiST index (`ST_DWithin` and `&&`), lists
load their category and agency with the page (`select_related`) and the status notes in one
more query (`prefetch_related`), a POST checks the API key, the service and the district and
writes the issue, its first event and the Open311 submission in one transaction. It is a bench
fixture, not part of the product: nothing in `app/` imports it, and Django, DRF and gunicorn are
development dependencies only.
"""
