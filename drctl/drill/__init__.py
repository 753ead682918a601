"""Drill building blocks shared by the real-AWS path and the local rehearsal.

``resolve`` turns the service name into endpoints the way clients do (TTL honoured),
``probe`` sends steady inference traffic and logs every request, ``client`` is the
failover-aware client applications can import. See docs/rehearsal.md.
"""
