"""Company values set into answers."""

from __future__ import annotations

from bot.kb.schema import fill_placeholders


def test_company_values_are_set_into_japanese_without_stray_spaces():
    values = {"desk": "#compliance-desk（行為規制相談窓口）",
              "route": "送配電会社への正規の照会窓口",
              "portal_url": "https://intranet.example.co.jp/conduct"}
    assert fill_placeholders("所属長と {desk} に報告してください。", values) == (
        "所属長と#compliance-desk（行為規制相談窓口）に報告してください。")
    assert fill_placeholders("相談のうえ {route} などの手続きを", values) == (
        "相談のうえ送配電会社への正規の照会窓口などの手続きを")
    # a URL keeps its spaces, so the link ends where it should; English keeps its spaces
    assert fill_placeholders("詳しくは {portal_url} のQ&A集で", values) == (
        "詳しくは https://intranet.example.co.jp/conduct のQ&A集で")
    assert fill_placeholders("Ask {desk} or see {portal_url}.", values) == (
        "Ask #compliance-desk（行為規制相談窓口） or see https://intranet.example.co.jp/conduct.")
