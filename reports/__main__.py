"""`python -m reports …`: see reports/cli.py."""

from reports.cli import main

raise SystemExit(main())
