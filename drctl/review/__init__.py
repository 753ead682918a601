"""Pull-request review: offline plan, monthly cost estimate and diff, DR posture and policies.

``rules`` is importable without Pulumi so the policy pack in ``policy/`` and the tests share it.
"""
