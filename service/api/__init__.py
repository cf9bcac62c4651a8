"""HTTP routes; `service.main` assembles them."""
