"""Tests of the built-in IdP plugins, the plugin mechanism and a third-party plugin."""
