"""Dataset folders served over HTTP(S) (a public bucket, a static file server), read-only, with
the standard library: HEAD for sizes, Range GETs for bytes (the server must answer 206), retries
with backoff on 5xx and network errors."""
import time
import urllib.error
import urllib.parse
import urllib.request

from ._core import ShardError
from ._ranged import RangedObject


def _request(url, method="GET", headers=None):
    last = None
    for attempt in range(5):
        if attempt:
            time.sleep(0.2 * 2 ** (attempt - 1))
        try:
            return urllib.request.urlopen(urllib.request.Request(url, method=method, headers=headers or {}), timeout=60)
        except urllib.error.HTTPError as e:
            if e.code == 404:
                raise ShardError(f"{url}: not found") from None
            if e.code < 500:
                raise ShardError(f"{url}: HTTP {e.code}") from None
            last = e
        except (urllib.error.URLError, OSError) as e:
            last = e
    raise ShardError(f"{url}: {last}")


class HttpObject(RangedObject):
    """A read-only file over one URL: read(n) / seek / tell / fetch by Range GETs; `size` from a HEAD."""

    def __init__(self, url):
        self.url, self.pos = url, 0
        with _request(url, "HEAD") as r:
            length = r.headers.get("Content-Length")
        if length is None:
            raise ShardError(f"{url}: the server gives no Content-Length")
        self.size = int(length)

    def fetch(self, offset, length):
        end = min(self.size, offset + length)
        if end <= offset:
            return b""
        with _request(self.url, headers={"Range": f"bytes={offset}-{end - 1}"}) as r:
            if r.status != 206 and not (r.status == 200 and offset == 0 and end == self.size):
                raise ShardError(f"{self.url}: HTTP {r.status} to a range request (the server must answer ranges with 206)")
            data = r.read()
        if len(data) != end - offset:
            raise ShardError(f"{self.url}: {len(data)} bytes for a range of {end - offset}")
        return data


def open_url(base, name):
    obj = HttpObject(f"{base.rstrip('/')}/{urllib.parse.quote(name)}")
    return obj, obj.size
