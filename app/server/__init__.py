"""The server process around the app: uvicorn's HTTP protocol with Lantern's connection
limits (header size, slow clients, open connections), and the allocator's tuning."""
