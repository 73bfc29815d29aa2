"""Browser tests: the pages in headless Chromium against a real `switchboard serve`."""
