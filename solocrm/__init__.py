"""solocrm: a self-hosted CRM with customer analytics for one-person companies."""

__version__ = "0.1.0"
