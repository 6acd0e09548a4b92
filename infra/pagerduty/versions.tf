terraform {
  required_version = ">= 1.5"

  required_providers {
    pagerduty = {
      source = "PagerDuty/pagerduty"
      # Resource and attribute names checked against the v3.32.4 documentation
      # (infra/tests/terraform_providers.py); widen only after re-checking them.
      version = "~> 3.32.4"
    }
  }
}

provider "pagerduty" {
  # null: the provider reads PAGERDUTY_TOKEN from the environment. Never commit a token.
  token = var.pagerduty_token
}
