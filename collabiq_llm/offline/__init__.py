"""The offline extractor's rules: no network, no API key, used when no key is set
and as the last resort when every remote provider fails.

`rules` splits the email and finds the person and details; `event_date` picks the
event date; `orgs` assigns startup and partner from `cues` (structure: correspondents,
salutations, signatures, legal forms, institution words) and `names` (what a company
name looks like); `lexicon` tells ordinary Korean words from names (Kiwi, lazy).
The provider wrapper lives in `collabiq_llm.providers.offline`.
"""
