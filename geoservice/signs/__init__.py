"""Place-name signs (地名标志, GB 17733): the register, the sign-text check and inspections.

- :mod:`geoservice.signs.text_check` — does a sign show the standard name, romanised by the 1984 rules?
- :mod:`geoservice.signs.register` — road-name plates, street and village signs and door plates as objects.
- :mod:`geoservice.signs.inspections` — 巡检 from phones, cycles, overdue lists, the "to replace" list.
"""
