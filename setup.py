"""Which packages ship; setup.cfg holds everything else (metadata, package data, entry points).

setuptools finds scimgate's packages by itself (namespace discovery), so a new area ships without
editing a list, and the data folders (templates, static, the development IdP) are packages too,
each naming its files in setup.cfg ``[options.package_data]``. The built-in configuration and
plugins ship under prefixed names (``package_dir`` in setup.cfg) that discovery cannot see, so
they are the two names written here.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(include=["scimgate", "scimgate.*"], exclude=["*.__pycache__"]),
        "scimgate_config",
        "scimgate_plugins",
    ]
)
