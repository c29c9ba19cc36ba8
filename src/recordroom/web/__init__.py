"""Web app: pages, the JSON API assembly, middleware, base templates."""
