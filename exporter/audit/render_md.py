"""The Markdown report: the same sections as the terminal report, as headings and pipe tables."""

from __future__ import annotations

from exporter.audit.sections import sections


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(report: dict) -> str:
    out = ["# LiteLLM spend audit", "", f"Source: {report['source']}  ", f"Generated: {report['generated_at']}", ""]
    for s in sections(report):
        out += [f"## {s.title}", ""]
        out += [f"{line}  " for line in s.lines]
        if s.lines:
            out.append("")
        for t in s.tables:
            if not t.rows:
                continue
            if t.title:
                out += [f"**{t.title}**", ""]
            out.append("| " + " | ".join(t.headers) + " |")
            out.append("|" + "|".join("---:" if i in t.numeric else "---" for i in range(len(t.headers))) + "|")
            out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in t.rows]
            out.append("")
    return "\n".join(out).rstrip() + "\n"
