"""Uploaded files, served by the app itself when they live on the local file system (the
default): gunicorn runs with DEBUG off, where Django's `static()` helper serves nothing. With an
object store (MEDIA_STORAGE=s3) the store or its CDN serves them and this answers 404."""

from pathlib import PurePosixPath

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage, storages
from django.http import Http404
from django.views.decorators.http import require_safe
from django.views.static import serve

from photos.images import CONTENT_TYPE, EXTENSION

# Only what the server itself wrote: re-encoded JPEGs under photos/.
CONTENT_TYPES = {f".{EXTENSION}": CONTENT_TYPE}


@require_safe
def media_file(request, name: str):
    storage = storages["default"]
    if (
        PurePosixPath(name).suffix not in CONTENT_TYPES
        or not name.startswith("photos/")
        or not isinstance(storage, FileSystemStorage)
    ):
        raise Http404
    # Django's own file view: safe_join (no way out of MEDIA_ROOT), 404s, If-Modified-Since.
    try:
        response = serve(request, name, document_root=str(storage.location))
    except SuspiciousFileOperation as exc:  # a path that leaves MEDIA_ROOT: no such photo
        raise Http404 from exc
    response["Content-Type"] = CONTENT_TYPES[PurePosixPath(name).suffix]
    # Names are random and never reused: a file never changes.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    # Should a browser ever render it as a document, it may run and load nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
