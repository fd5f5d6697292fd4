"""The community configuration: one YAML file, loaded into typed, frozen objects.

Every error names the field path and what is wrong, e.g.
``series.lunch.rule.weekday: 'Thu ' is not a weekday (mon..sun)``. Unknown keys are errors.

Modules: ``base`` (the Struct base, YAML value types, the converter that reports every problem),
one module per section (``applications``, ``people``, ``provisioning``, ``rhythm``), ``model`` (the
root and the schedule: community, series, organizers), ``checks`` (rules across sections) and
``load`` (YAML in, Config out). Sections import only ``base``, so the package has no import cycle.
"""

from shared.config.base import WEEKDAYS, ConfigError, check_template, parse_clock, parse_weekday, parse_zone
from shared.config.load import DEFAULT_CONFIG_PATH, config_path, load_config, parse_config
from shared.config.model import Config, CronAuth, DatesRule, MonthlyRule, SameDayAsRule, WeeklyRule

__all__ = ["DEFAULT_CONFIG_PATH", "WEEKDAYS", "Config", "ConfigError", "CronAuth", "DatesRule", "MonthlyRule",
           "SameDayAsRule", "WeeklyRule", "check_template", "config_path", "load_config", "parse_clock",
           "parse_config", "parse_weekday", "parse_zone"]
