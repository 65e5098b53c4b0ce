"""The FastAPI face: routers, auth dependencies, error handlers. Never imports dagster."""
