import pytest

from auditor import pricing


def test_table_records_its_source_and_date():
    table = pricing.price_table()
    assert "aws.amazon.com" in table["source"] and table["as_of"]
    assert {"us-east-1", "eu-west-1"} <= set(table["regions"])


@pytest.mark.parametrize("region", sorted(pricing.price_table()["regions"]))
def test_every_region_prices_the_items_the_checks_use(region):
    for volume_type in ("gp2", "gp3", "io1", "st1", "sc1"):
        assert pricing.price(region, "ebs_gb_month", volume_type) is not None
    for item in ("ebs_snapshot_gb_month", "eip_idle_hour", "nat_gateway_hour", "nat_gateway_gb", "alb_hour",
                 "nlb_hour", "ebs_gp3_iops_month"):
        assert pricing.price(region, item) is not None, item


def test_known_prices_give_a_monthly_estimate():
    estimate = pricing.hourly("us-east-1", "nat_gateway_hour", count=2)
    assert estimate.usd == pytest.approx(0.045 * 730 * 2)
    assert estimate.evidence()["estimated_monthly_cost_usd"] == 65.7
    assert "us-east-1" in estimate.basis and "as of" in estimate.basis
    assert pricing.per_gb_month("eu-west-1", "ebs_gb_month", 10, "gp2").usd == pytest.approx(1.1)


def test_missing_price_is_unknown_never_borrowed():
    """A region or type the table lacks gives "unknown", not the price of another region or type."""
    assert pricing.price("ap-south-2", "nat_gateway_hour") is None
    assert pricing.price("us-east-1", "ec2_hour", "x2iedn.32xlarge") is None
    assert pricing.price("us-east-1", "ebs_gb_month") is None  # a type is required for per-type items
    assert pricing.price("us-east-1", "nat_gateway_hour", "gp2") is None
    unknown = pricing.hourly("ap-south-2", "alb_hour")
    assert unknown.usd is None and not unknown.known
    assert unknown.evidence() == {"estimated_monthly_cost_usd": "unknown",
                                  "price_basis": "no listed price for alb_hour in ap-south-2"}
    assert "unknown" in unknown.text()
    assert pricing.per_gb_month("us-east-1", "ebs_gb_month", 10, "standard").usd is None
