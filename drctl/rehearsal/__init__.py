"""Local two-region rehearsal: real Triton servers and the Route 53 stand-in on 127.0.0.1.

Nothing here talks to AWS. Every stand-in is named as such; see docs/rehearsal.md.
"""
