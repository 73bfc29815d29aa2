"""Harnesses that drive real SIP peers (SIPp, baresip, pyVoIP, SIPVicious) in tests.

They are the independent judges of the SIP edge (issue 3): each one runs a real
implementation as a subprocess or contained thread on loopback, binds ports chosen
at run time, and cleans up after itself even when a test fails.
"""
