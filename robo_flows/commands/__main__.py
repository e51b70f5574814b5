"""``python -m robo_flows.commands ...`` (and ``torchrun ... -m robo_flows.commands train ...``)."""

from robo_flows.commands import main

raise SystemExit(main())
