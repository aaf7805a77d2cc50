"""The model store: the manifest (the contract between export and server) and its layout."""
