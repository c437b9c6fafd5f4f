"""The offline extractor's rules: no network, no model, used when no key is set
and as the last resort when every remote provider fails.

`rules` finds the person, details and date; `orgs` finds startup and partner.
The provider wrapper lives in `collabiq_llm.providers.offline`.
"""
