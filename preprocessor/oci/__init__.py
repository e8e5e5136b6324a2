"""Container images and Helm charts in OCI registries: references, credentials, a distribution
API client and copy by digest. Imported only by the catalog commands and render, never by validate."""
