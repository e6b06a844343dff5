"""`civicloop import`: bring a city's existing reports along, with their history.

Each importer is a pipeline: parse (`tabular` for CSV layouts, `open311` for GeoReport v2
servers) turns the source into `Record`s or `Rejected` rows; `apply` validates them against
this deployment and stores them, one transaction per batch (`run`). (source, external id) is the
key: a second run imports nothing twice, and an interrupted run resumes where it stopped.
"""
