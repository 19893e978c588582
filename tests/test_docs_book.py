"""docs/data-format.md carries exactly the schema's rendering, so the docs never drift from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskengine.book import schema

DOC = Path(__file__).resolve().parents[1] / "docs" / "data-format.md"


def test_data_format_doc_matches_schema() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text.count(schema.DOC_BEGIN) == 1 and text.count(schema.DOC_END) == 1
    between = text.split(schema.DOC_BEGIN, 1)[1].split(schema.DOC_END, 1)[0]
    assert between == "\n" + schema.markdown(), (
        'docs/data-format.md is out of date: run python -c "from riskengine.book.schema import '
        "write_markdown; write_markdown('docs/data-format.md')\""
    )


def test_rendering_covers_every_table_column_and_rule() -> None:
    md = schema.markdown()
    for t in schema.TABLES.values():
        assert f"### `{t.name}`" in md
        for c in t.columns:
            assert (
                f"| `{c.name}` | {schema.type_name(c.dtype)} | {'yes' if c.required else 'no'} |"
                in md
            )
            if c.range is not None:
                assert c.range.text(c.name) in md
    for r in schema.REFERENCES:
        assert r.rule in md
    for rule in schema.RULES.values():
        assert rule.text in md
    assert "| `indemnity` | float | no | `0.9` |" in md
    assert "| `commercial_cover` | boolean | no | `true` |" in md


def test_splice_replaces_only_between_markers() -> None:
    doc = f"head\n{schema.DOC_BEGIN}\nstale\n{schema.DOC_END}\ntail\n"
    assert (
        schema.splice_markdown(doc)
        == f"head\n{schema.DOC_BEGIN}\n{schema.markdown()}{schema.DOC_END}\ntail\n"
    )
    with pytest.raises(ValueError, match="markers"):
        schema.splice_markdown("no markers")
