from dra_conformance.cli import main

raise SystemExit(main())
