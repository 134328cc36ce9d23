"""Gazetteer (地名): place names and standard addresses.

Names: :mod:`.text` (normalisation at the boundary), :mod:`.categories` (categories, 专名/通名 split),
:mod:`.rules` (the 地名管理条例 Art. 9 check), :mod:`.name_index` and :mod:`.name_registry` (in-memory
indexes kept in step with the store), :mod:`.romanize` (1984 romanisation rules), :mod:`.names` (records,
lifecycle, history), :mod:`.name_import` (existing names in bulk), :mod:`.search`.
Addresses: :mod:`.divisions` (the division tree and its short forms), :mod:`.addresses` (parsing),
:mod:`.geocode` (geocode / reverse), :mod:`.doorplates` (door-plate numbering, GB/T 35639 App. B).
"""
