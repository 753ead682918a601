"""Monitoring for trt-dr: recording rules, alerts linked to runbooks, dashboards, rollouts.

Everything here is plain data rendered from the stack settings, so ``infra/monitoring.py``
deploys exactly what ``drctl monitoring lint`` checks and the tests validate.
"""
