from infra.testkit import fault_routes


def pytest_configure(config):
    config.addinivalue_line("markers", "live: starts the native stack and runs the harness for real (minutes)")
    fault_routes.register(config)


def pytest_collection_modifyitems(items):
    fault_routes.skip_marked(items)
