"""Every write to the matter catalog, one module per concept (mirroring enforcement.models): import the
module you mean (`from enforcement.services import catalog`); this package re-exports nothing."""
