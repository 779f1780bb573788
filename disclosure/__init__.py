"""The information-disclosure (政府信息公开) portal generator: records, rules, catalogue, feeds, search."""

__version__ = "0.1.0"
