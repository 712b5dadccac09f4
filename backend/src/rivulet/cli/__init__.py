"""The ``rivulet`` command line (the console script runs ``rivulet.cli.main:main``).

``main`` builds the parser and holds the small top-level commands; ``models`` and ``templates`` register their
subcommand groups; ``common`` holds what every command shares (settings, the database, output). The top layer:
nothing in rivulet imports it.
"""
