"""Dataset folders in object storage (s3://bucket/prefix) for the readers, through boto3 (an
optional dependency: Debian python3-boto3, or `pip install boto3`). Credentials, region and
profile come from the standard AWS environment and files; AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL
(passed explicitly: older boto3 ignores them) selects a compatible server with path-style
addressing. Objects are read by ranged GETs: one per record for the loaders."""
import os

from ._core import ShardError
from ._ranged import RangedObject

_client = None
_client_pid = None


def client():
    """This process's client: a DataLoader worker forked from the trainer makes its own (a shared
    connection pool would interleave the two processes' responses)."""
    global _client, _client_pid
    if _client is None or _client_pid != os.getpid():
        _client_pid = os.getpid()
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise ShardError("s3:// folders need boto3 (apt-get install python3-boto3, or pip install boto3)") from None
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        cfg = Config(retries={"max_attempts": int(os.environ.get("AWS_MAX_ATTEMPTS") or 5), "mode": "standard"},
                     s3={"addressing_style": "path"} if endpoint else {})
        _client = boto3.client("s3", endpoint_url=endpoint, config=cfg,
                               region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")
    return _client


def location(url):
    rest = url[len("s3://"):]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ShardError(f"{url}: not an s3://bucket/prefix URL")
    return bucket, prefix.strip("/")


def _explain(url, e):
    code = str(getattr(e, "response", {}).get("Error", {}).get("Code", ""))
    status = getattr(e, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    if status == 404 or code in ("404", "NoSuchKey", "NotFound"):
        return ShardError(f"{url}: not found")
    if status == 403 or code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return ShardError(f"{url}: access denied ({code or status}): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE")
    return ShardError(f"{url}: {code or type(e).__name__}{f' (HTTP {status})' if status else ''}: {e}")


class S3Object(RangedObject):
    """A read-only file over one object: read(n) / seek / tell by ranged GETs; `size` from a HEAD."""

    def __init__(self, bucket, key):
        self.bucket, self.key, self.url = bucket, key, f"s3://{bucket}/{key}"
        try:
            self.size = int(client().head_object(Bucket=bucket, Key=key)["ContentLength"])
        except ShardError:
            raise
        except Exception as e:  # botocore ClientError, connection errors after the retries
            raise _explain(self.url, e) from None
        self.pos = 0

    def fetch(self, offset, length):
        """`length` bytes from `offset` (fewer at the end): one GET."""
        end = min(self.size, offset + length)
        if end <= offset:
            return b""
        try:
            body = client().get_object(Bucket=self.bucket, Key=self.key, Range=f"bytes={offset}-{end - 1}")["Body"]
            return body.read()
        except Exception as e:
            raise _explain(self.url, e) from None


def open_object(url, name):
    bucket, prefix = location(url)
    obj = S3Object(bucket, f"{prefix}/{name}" if prefix else name)
    return obj, obj.size
