"""Helpers the tests share. Test modules import from here, never from one another (a test module
is collected by pytest, and importing it elsewhere runs and re-registers its tests);
tests/test_support_imports.py keeps it so."""
