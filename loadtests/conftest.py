def pytest_configure(config):
    config.addinivalue_line("markers", "live: starts the native stack and runs the harness for real (minutes)")
