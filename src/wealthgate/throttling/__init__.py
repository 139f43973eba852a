"""Limits on what one API key (or one client address) may do: request rates per key (reads, writes), the
back-off after failed authentication, and the daily quota of free text a key may add to the permanent record.

Rates and back-off are counted in fixed windows held outside any one process (`shared.py`: a file mapped into
the memory of every worker of this host, or a `limits` storage such as Redis across hosts); the text quota is
counted in PostgreSQL, in the transaction of the write it pays for. See docs/limits.md.

(Not named `limits`: that is the library this package builds on.)
"""
