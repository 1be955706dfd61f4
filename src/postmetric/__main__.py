from postmetric.cli import main

raise SystemExit(main())
