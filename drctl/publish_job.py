"""The publish step of `pulumi up`: release a region's accepted GPU build for its Triton.

Runs inside the publish Job (``python3 -m drctl.publish_job ...``, see infra/builds.py) after
the build Job finished. It publishes ``s3://<bucket>/<region>/engines/<model>/<target>/<key>``
into the region's tree with the model store's two-phase publish. Re-running it for a build
that is already released changes nothing, so Pulumi may replace the Job safely.
Exit codes follow drctl: 0 released (or already), 1 a check failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys

from drctl.store.buildtree import S3Build
from drctl.store.errors import StoreError
from drctl.store.publish import PublishResult, publish
from drctl.store.s3ops import RegionStore, s3_client


def engines_prefix(root: str, model: str, target: str, key: str) -> str:
    """Where engine_build wrote the build (its ``--out`` is ``s3://<bucket>/<root>/engines``)."""
    return f"{root}/engines/{model}/{target}/{key}"


def publish_build(bucket: str, root: str, model: str, target: str, key: str) -> PublishResult:
    """Publish one accepted build into the ``root`` tree of ``bucket``."""
    store = RegionStore(root, root, bucket, s3_client(root), root)
    return publish(store, S3Build(bucket, engines_prefix(root, model, target, key)))


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, publish, print the result as JSON; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m drctl.publish_job", description=__doc__)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--root", required=True, help="the region, e.g. us-east-1")
    parser.add_argument("--model", required=True)
    parser.add_argument("--target", required=True, help="target label, e.g. sm90")
    parser.add_argument("--key", required=True, help="build key")
    args = parser.parse_args(argv)
    try:
        result = publish_build(args.bucket, args.root, args.model, args.target, args.key)
    except StoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    print(json.dumps({"model": args.model, "version": result.version, "state": result.state}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
