"""Gazetteer (地名): place names and addresses.

Names half: :mod:`.text` (normalisation at the boundary), :mod:`.rules` (the 地名管理条例 Art. 9 check),
:mod:`.romanize` (1984 romanisation rules), :mod:`.names` (records, lifecycle, history), :mod:`.search`.
Addresses half: parsing, standardisation, door plates and geocoding.
"""
