"""The offline step: train, export and import models into the store.

Needs torch; the server never imports this package."""
