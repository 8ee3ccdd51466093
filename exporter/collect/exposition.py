"""The text exposition (format 0.0.4) of the exporter's metric families, rendered fast enough to redo every refresh.

Byte-identical to prometheus_client's `generate_latest` for these families (tests/test_render.py compares
them), but each series' name-and-labels prefix is kept from one render to the next, so a refresh formats only
the values: rendering ~20k series takes milliseconds instead of most of a second, which would otherwise be
spent holding the interpreter lock while scrapes wait.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.utils import floatToGoString

_TYPES = {"info": "gauge", "stateset": "gauge", "gaugehistogram": "histogram", "unknown": "untyped"}
_OPENMETRICS_ONLY = ("_created", "_gsum", "_gcount")  # samples generate_latest moves into extra families


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _prefix(name: str, labels: dict) -> str:
    if not labels:
        return name + " "
    return name + "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items())) + "} "


class _Collected:
    def __init__(self, families: list):
        self.families = families

    def collect(self):
        return self.families


class Renderer:
    def __init__(self) -> None:
        self._prefixes: dict[tuple, str] = {}

    def render(self, families: list) -> bytes:
        if any(s.timestamp is not None or s.name.endswith(_OPENMETRICS_ONLY) for m in families for s in m.samples):
            registry = CollectorRegistry(auto_describe=False)  # not built by this exporter: the library's way
            registry.register(_Collected(families))
            return generate_latest(registry)
        previous, kept = self._prefixes, {}
        out = []
        for metric in families:
            name = metric.name + "_total" if metric.type == "counter" else metric.name
            if metric.type == "info":
                name = metric.name + "_info"
            doc = metric.documentation.replace("\\", r"\\").replace("\n", r"\n")
            out.append(f"# HELP {name} {doc}\n# TYPE {name} {_TYPES.get(metric.type, metric.type)}\n")
            for sample in metric.samples:
                key = (sample.name, tuple(sample.labels.items()))
                prefix = previous.get(key) or _prefix(sample.name, sample.labels)
                kept[key] = prefix
                out.append(prefix + floatToGoString(sample.value) + "\n")
        self._prefixes = kept  # series that went away are forgotten
        return "".join(out).encode("utf-8")
