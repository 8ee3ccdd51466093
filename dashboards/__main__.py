"""`python -m dashboards`: regenerate dashboards/generated/*.json and deploy/prometheus/rules/*.yaml."""

import sys

from dashboards.build import main

sys.exit(main())
