"""The HTTP layer: the one home of request hygiene (timeouts, body spooling, size, headers,
methods, parameters, limits) and of the route class that commits each unit of work."""
