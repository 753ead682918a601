"""The model store: publish, verify, restore and roll back model versions in both regions.

Every operation is a plain typed function over boto3 S3 clients (see ``docs/model-store.md``);
``drctl store`` (``cli.py``) is a thin layer over them.
"""
