"""A read-only file over a remote object whose bytes come by range (S3, HTTP): the file-like part
(read / seek / tell / len / context manager) written once; a subclass sets `url` and `size` and
implements `fetch(offset, length)`, one request each."""


class RangedObject:
    url = ""
    size = 0
    pos = 0

    def fetch(self, offset, length):  # pragma: no cover - every subclass has its own
        raise NotImplementedError

    def read(self, n=-1):
        n = self.size - self.pos if n is None or n < 0 else n
        data = self.fetch(self.pos, n)
        self.pos += len(data)
        return data

    def seek(self, pos, whence=0):
        self.pos = pos if whence == 0 else self.pos + pos if whence == 1 else self.size + pos
        return self.pos

    def tell(self):
        return self.pos

    def __len__(self):
        return self.size

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
