from slimify.cli import main

raise SystemExit(main())
