"""Reading an email: raw text or RFC 822/MIME in, one cleaned `EmailInput` out.

`parsing` decodes the message, `cleanup` trims quotes, signatures and
disclaimers, `dates` resolves the dates it mentions, `input` is the value the
rest of the pipeline receives.
"""
