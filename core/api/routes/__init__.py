"""The API's routes, one module per part of the studio; each only translates HTTP to a `core` service."""
