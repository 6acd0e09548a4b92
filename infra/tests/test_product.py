"""product.toml is the one product definition: valid, and the name modules generated from it are current."""

from infra import product_files
from infra.product import PRODUCT, problems


def test_name_modules_are_generated_from_product_toml():
    assert product_files.diff() == [], "run: python -m infra.product_files (or make generate-monitoring)"


def test_the_definition_is_valid_and_bad_values_are_refused_with_the_reason():
    good = {k: getattr(PRODUCT, k) for k in PRODUCT.__dataclass_fields__}
    assert problems(good) == []
    for key, value, why in [("availability_percent", 100.0, "strictly between 0 and 100"),
                            ("latency_percent", 0, "strictly between 0 and 100"),
                            ("slug", "my-product", "lowercase letters or digits"),
                            ("port_offset", 1, "collides with the template's own ports"),
                            ("time_zone", "Mars/Olympus", "IANA time zone"),
                            ("business_hours_end", "08:00", "start before end"),
                            ("slack_alerts_channel", "alerts", "Slack channel")]:
        found = problems({**good, key: value})
        assert len(found) == 1 and why in found[0], (key, found)


def test_rename_keeps_one_attribution_line():
    from dataclasses import replace

    acme = replace(PRODUCT, name="Acme", slug="acme")
    text = "# Tmpl\nmake up\ncopier copy --trust <this repository> x   # from this template\nthe tmpl db and TMPL_X\n"
    out = product_files.rename_text(text, ("Tmpl", "tmpl"), acme)
    assert out.splitlines() == ["# Acme", "make up",
                                "copier update --trust   # improvements of the Tmpl template this product started "
                                "from (docs/adopting.md)", "the acme db and ACME_X"]
