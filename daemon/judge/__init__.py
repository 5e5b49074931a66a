"""The judgement, pure: is an event an interview, who interviewed, what
company and position, has the company answered. Events and message headers
in, verdicts out; the words come from ``daemon/lang``."""
