"""Grafana dashboards and Prometheus alert rules for litellm-spend-exporter, generated from code."""
